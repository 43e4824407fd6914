// The CLI against two real controllers on a real PostgreSQL 15 (lab/postgres/lab.ts), made the
// documented way: one `nodewright init --store postgres://… --listen A --listen B` directory, the
// second member by `controller run --listen B`. A write sent to the follower is answered 307 and the
// CLI completes it at the leader (an artifact upload re-sent whole); `controller status` answers from
// either member. Needs `npm run build` and root (the lab starts the server as the postgres user).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../lab/ports.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { tempDir } from '../../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../../agent/fixture.js';
import { call, run, runAsync, stopChildren } from '../fixture.js';

const cli = (args: string[]) => runAsync(CONTROLLER_CLI, args);

let lab: PostgresLab;
let dir: string;
const members: ChildProcess[] = [];
let logs = '';
beforeAll(async () => {
  requireBuild();
  lab = await startPostgres();
  dir = tempDir('nw-ha-cli-pg-');
}, 60_000);
afterAll(async () => {
  await stopChildren(...members);
  await lab?.stop();
});

describe('two controllers from one init directory', () => {
  let urls: string[];
  let status: { leader: string; members: { name: string; url: string; leader: boolean }[] };
  const op = (controllers: string[]) => {
    const f = path.join(dir, 'fleet', `op-${members.length}-${controllers.length}-${Date.now()}.yaml`);
    writeFileSync(f, `controller:\n${controllers.map((c) => `  - "${c}"\n`).join('')}ca: ca.crt\ncert: operator.crt\nkey: operator.key\n`);
    return f;
  };

  it('init --store postgres:// and controller run --listen: both serve, one leads', async () => {
    const ports = [await freePort(), await freePort()];
    const db = await lab.createDatabase('cli');
    const pass = path.join(dir, 'pg.pass');
    writeFileSync(pass, `${lab.password}\n`, { mode: 0o600 });
    const fleet = path.join(dir, 'fleet');
    const init = run(CONTROLLER_CLI, ['init', '--dir', fleet, '--listen', `127.0.0.1:${ports[0]}`, '--listen', `127.0.0.1:${ports[1]}`, '--store', lab.url(db), '--store-password-file', pass]);
    expect(init.stderr).toBe('');
    urls = ports.map((p) => `https://127.0.0.1:${p}`);
    for (const [i, p] of ports.entries()) {
      const child = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(fleet, 'controller.yaml'), ...(i ? ['--listen', `127.0.0.1:${p}`] : [])], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      child.stderr!.on('data', (c) => (logs += c));
      members.push(child);
    }
    const ca = readFileSync(path.join(fleet, 'ca.crt'), 'utf8');
    const t0 = Date.now();
    for (;;) {
      const s = await cli(['controller', 'status', '--json', '--operator-config', op([urls[1]])]);
      const up = await Promise.all(urls.map((u) => call(`${u}/healthz`, { ca }).then((a) => a.status === 200, () => false)));
      if (s.code === 0 && up.every(Boolean)) {
        status = JSON.parse(s.stdout);
        if (status.leader && status.members.length === 2) break;
      }
      if (Date.now() - t0 > 30_000) throw new Error(`no leader with two members within 30 s: ${s.stdout}${s.stderr}\n${logs}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status.members.map((m) => m.url).sort()).toEqual([...urls].sort());
    expect(status.members.filter((m) => m.leader).map((m) => m.name)).toEqual([status.leader]);
  }, 60_000);

  it('a write sent to the follower is completed at the leader; an upload is re-sent whole', async () => {
    const follower = status.members.find((m) => !m.leader)!.url;
    const cfg = op([follower]);
    const t = await cli(['nodes', 'join-token', '--group', 'lab', '--ttl', '10m', '--json', '--operator-config', cfg]);
    expect(t.stderr).toBe('');
    expect(JSON.parse(t.stdout)).toMatchObject({ token: expect.any(String), caCertHash: expect.stringMatching(/^sha256:/) });
    const bin = path.join(dir, 'kubelet');
    const data = Buffer.alloc(3 * 1024 * 1024 + 5, 1);
    writeFileSync(bin, data);
    const add = await cli(['artifact', 'add', bin, '--kind', 'kubelet-binary', '--version', 'v1.10.13-nw1', '--json', '--operator-config', cfg]);
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain(createHash('sha256').update(data).digest('hex'));
    const ls = await cli(['artifact', 'ls', '--json', '--operator-config', cfg]);
    expect(ls.stdout).toContain('v1.10.13-nw1');
  }, 60_000);
});
