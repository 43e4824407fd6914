// The CLI side of HA as real processes and real TLS: `nodewright init --store postgres://… --san`
// (the files, the certificate's names, a password on argv refused), `controller run --listen`, and
// the operator client against stand-in members on loopback (certificates from that init): the first
// controller that answers, a follower's 307 followed with the same method and body (an upload
// re-sent from disk), never to a server outside the fleet CA, and `controller status`.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerClient, parseOperatorConfig } from '../../../controller/commands/client.js';
import { parseControllerConfig } from '../../../controller/config.js';
import { freePort } from '../../../lab/ports.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../agent/fixture.js';
import { call, run, runAsync as runFixture, stopChildren } from './fixture.js';

const runAsync = (args: string[]) => runFixture(CONTROLLER_CLI, args);

interface Seen { method: string; url: string; bytes: number; sha256: string }
type Handler = (req: import('node:http').IncomingMessage, body: Buffer, res: import('node:http').ServerResponse) => void;

const servers: https.Server[] = [];
/** A stand-in member on 127.0.0.1 with the certificates of `dir` (an init directory). */
async function member(dir: string, handle: Handler, seen: Seen[] = []): Promise<{ url: string; seen: Seen[] }> {
  const pem = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const server = https.createServer({ cert: pem('controller.crt'), key: pem('controller.key'), ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}
const json = (res: import('node:http').ServerResponse, status: number, v: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(v));

let dir: string;
let fleet: string; // the init directory every member shares
let ports: [number, number];
beforeAll(async () => {
  requireBuild();
  dir = tempDir('nw-ha-cli-');
  fleet = path.join(dir, 'fleet');
  ports = [await freePort(), await freePort()];
});
afterAll(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('init for the HA mode', () => {
  it('writes store and storePasswordFile, an operator.yaml listing every member, a certificate for every --listen and --san', () => {
    const r = run(CONTROLLER_CLI, ['init', '--dir', fleet, '--listen', `127.0.0.1:${ports[0]}`, '--listen', `127.0.0.2:${ports[1]}`, '--state-dir', './state', '--store', 'postgres://nw@127.0.0.1:5432/nodewright', '--store-password-file', path.join(dir, 'pg.pass'), '--san', 'ctl-c.example.org', '--san', '127.0.0.3', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const yaml = readFileSync(path.join(fleet, 'controller.yaml'), 'utf8');
    expect(yaml).toContain('store: "postgres://nw@127.0.0.1:5432/nodewright"');
    expect(yaml).toContain(`storePasswordFile: "${path.join(dir, 'pg.pass')}"`);
    const cfg = parseControllerConfig(yaml, path.join(fleet, 'controller.yaml'));
    expect(cfg).toMatchObject({ store: { kind: 'postgres', url: 'postgres://nw@127.0.0.1:5432/nodewright', passwordFile: path.join(dir, 'pg.pass') }, listen: { host: '127.0.0.1', port: ports[0] }, url: `https://127.0.0.1:${ports[0]}` });
    expect(parseOperatorConfig(readFileSync(path.join(fleet, 'operator.yaml'), 'utf8'), path.join(fleet, 'operator.yaml')).controllers).toEqual([`https://127.0.0.1:${ports[0]}`, `https://127.0.0.2:${ports[1]}`]);
    const sans = new X509Certificate(readFileSync(path.join(fleet, 'controller.crt'))).subjectAltName ?? '';
    for (const n of ['IP Address:127.0.0.1', 'IP Address:127.0.0.2', 'IP Address:127.0.0.3', 'DNS:ctl-c.example.org', 'DNS:localhost']) expect(sans).toContain(n);
  });

  it('refuses a password in the --store URL (never echoed) and a bad --san, writing nothing', () => {
    const d = path.join(dir, 'refused');
    const pw = run(CONTROLLER_CLI, ['init', '--dir', d, '--store', 'postgres://nw:hunter2@127.0.0.1:5432/nodewright']);
    expect(pw.code).toBe(2);
    expect(pw.stderr).toMatch(/^NW_USAGE: --store carries a password/);
    expect(pw.stderr + pw.stdout).not.toContain('hunter2');
    const san = run(CONTROLLER_CLI, ['init', '--dir', d, '--san', '*.example.org']);
    expect(san.code).toBe(2);
    expect(san.stderr).toMatch(/^NW_USAGE: --san/);
    const pwFile = run(CONTROLLER_CLI, ['init', '--dir', d, '--store-password-file', '/p']);
    expect(pwFile.stderr).toMatch(/^NW_USAGE: --store-password-file is for --store postgres/);
    expect(existsSync(d)).toBe(false);
  });

  it('--store sqlite is today\'s controller.yaml: no store key', () => {
    const d = path.join(dir, 'single');
    expect(run(CONTROLLER_CLI, ['init', '--dir', d, '--listen', '127.0.0.1:7700', '--store', 'sqlite']).code).toBe(0);
    const yaml = readFileSync(path.join(d, 'controller.yaml'), 'utf8');
    expect(yaml).not.toMatch(/^store:/m);
    expect(parseControllerConfig(yaml, path.join(d, 'controller.yaml')).store).toEqual({ kind: 'sqlite' });
    expect(readFileSync(path.join(d, 'operator.yaml'), 'utf8')).toContain('controller: "https://127.0.0.1:7700"');
  });
});

describe('controller run --listen', () => {
  let child: ChildProcess | null = null;
  afterAll(() => stopChildren(child));
  it('listens on the given address instead of the config\'s', async () => {
    const d = path.join(dir, 'run');
    const [configured, given] = [await freePort(), await freePort()];
    expect(run(CONTROLLER_CLI, ['init', '--dir', d, '--listen', `127.0.0.1:${configured}`]).code).toBe(0);
    let logs = '';
    child = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(d, 'controller.yaml'), '--listen', `127.0.0.1:${given}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    child.stderr!.on('data', (c) => (logs += c));
    const ca = readFileSync(path.join(d, 'ca.crt'), 'utf8');
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 20_000 && status !== 200) {
      status = await call(`https://127.0.0.1:${given}/healthz`, { ca }).then((a) => a.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status, logs).toBe(200);
    await expect(call(`https://127.0.0.1:${configured}/healthz`, { ca })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // the operator.yaml of init names the configured address first: refused, so the CLI asks the next
    const op = path.join(d, 'op-both.yaml');
    writeFileSync(op, `controller:\n  - "https://127.0.0.1:${configured}"\n  - "https://127.0.0.1:${given}"\nca: ca.crt\ncert: operator.crt\nkey: operator.key\n`);
    const st = await runAsync(['controller', 'status', '--json', '--operator-config', op]);
    expect(st.stderr).toBe('');
    const j = JSON.parse(st.stdout);
    expect(j).toEqual({ leader: `127.0.0.1:${given}`, epoch: expect.any(Number), members: [{ name: `127.0.0.1:${given}`, url: `https://127.0.0.1:${given}`, leader: true, lastHeartbeat: expect.any(String) }] });
  });
});

describe('the operator client with several members', () => {
  const opConfig = (controllers: string[]) => {
    const f = path.join(fleet, `op-${controllers.length}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `controller:\n${controllers.map((c) => `  - "${c}"\n`).join('')}ca: ca.crt\ncert: operator.crt\nkey: operator.key\n`);
    return f;
  };
  const status = { leader: 'b', epoch: 3, members: [
    { name: 'a', url: 'https://127.0.0.1:1', leader: false, lastHeartbeat: '2026-12-07T10:00:00.000Z' },
    { name: 'b', url: 'https://127.0.0.1:2', leader: true, lastHeartbeat: '2026-12-07T10:00:01.000Z' },
  ] };
  let leader: { url: string; seen: Seen[] };
  let follower: { url: string; seen: Seen[] };
  let impostor: { url: string; seen: Seen[] };
  let down: string;
  beforeAll(async () => {
    leader = await member(fleet, (req, body, res) => json(res, 200, { method: req.method, url: req.url, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }));
    follower = await member(fleet, (req, _body, res) => {
      if (req.method === 'GET' && req.url === '/v1/controller/status') return json(res, 200, status);
      if (req.method === 'GET') return json(res, 200, { servedBy: 'follower' });
      const to = req.url!.startsWith('/to-impostor') ? impostor.url : req.url!.startsWith('/loop') ? follower.url : leader.url;
      json(res, 307, { code: 'NW_NOT_LEADER', message: 'not the leader' }, { location: `${to}${req.url}` });
    });
    // same role and shape, another fleet's CA: must never receive a redirected request
    const other = path.join(dir, 'other');
    expect(run(CONTROLLER_CLI, ['init', '--dir', other, '--listen', '127.0.0.1:7700']).code).toBe(0);
    impostor = await member(other, (_req, _body, res) => json(res, 200, { stolen: true }));
    down = `https://127.0.0.1:${await freePort()}`;
  });

  it('skips a member that refuses connections; a read is answered by the follower, a write follows its 307 with the same body', async () => {
    const c = controllerClient(parseOperatorConfig(readFileSync(opConfig([down, follower.url, leader.url]), 'utf8'), path.join(fleet, 'op.yaml')));
    try {
      expect(await c.request('GET', '/v1/nodes')).toEqual({ servedBy: 'follower' });
      const body = { group: 'lab', note: 'x'.repeat(3000) };
      const sent = JSON.stringify(body);
      const r = await c.request<{ method: string; url: string; sha256: string }>('POST', '/v1/rollouts?dryRun=1', body);
      expect(r).toEqual({ method: 'POST', url: '/v1/rollouts?dryRun=1', bytes: sent.length, sha256: createHash('sha256').update(sent).digest('hex') });
      expect(follower.seen.filter((s) => s.method === 'POST')).toEqual([{ method: 'POST', url: '/v1/rollouts?dryRun=1', bytes: sent.length, sha256: r.sha256 }]);
      const del = await c.request<{ method: string }>('DELETE', '/v1/nodes/w1');
      expect(del.method).toBe('DELETE');
    } finally {
      c.close();
    }
  });

  it('an artifact upload is re-sent whole from disk to the leader', async () => {
    const file = path.join(dir, 'kubelet.bin');
    const data = Buffer.alloc(4 * 1024 * 1024 + 17, 7);
    writeFileSync(file, data);
    const c = controllerClient(parseOperatorConfig(readFileSync(opConfig([follower.url]), 'utf8'), path.join(fleet, 'op.yaml')));
    try {
      const r = await c.upload<{ bytes: number; sha256: string; url: string }>('/v1/artifacts?name=kubelet', file);
      expect(r).toMatchObject({ url: '/v1/artifacts?name=kubelet', bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    } finally {
      c.close();
    }
  });

  it('never follows a redirect to a server outside the fleet CA, and stops a redirect loop', async () => {
    const c = controllerClient(parseOperatorConfig(readFileSync(opConfig([follower.url]), 'utf8'), path.join(fleet, 'op.yaml')));
    try {
      await expect(c.request('POST', '/to-impostor/v1/rollouts', { a: 1 })).rejects.toMatchObject({ code: 'NW_TLS', message: expect.stringContaining('no certificate of the fleet CA') });
      expect(impostor.seen).toEqual([]);
      await expect(c.request('POST', '/loop', {})).rejects.toMatchObject({ code: 'NW_PUSH', message: expect.stringContaining('more than 2 times') });
    } finally {
      c.close();
    }
  });

  it('none answers: NW_PUSH naming each member', async () => {
    const r = await runAsync(['nodes', 'ls', '--operator-config', opConfig([down, `https://127.0.0.1:${await freePort()}`])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^NW_PUSH: cannot reach any of the 2 controllers/);
  });

  it('controller status --json and the table, from the first member that answers', async () => {
    const cfg = opConfig([down, follower.url]);
    const j = await runAsync(['controller', 'status', '--json', '--operator-config', cfg]);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout)).toEqual(status);
    const t = await runAsync(['controller', 'status', '--operator-config', cfg]);
    expect(t.stdout.split('\n')[0]).toBe('leader b  epoch 3');
    expect(t.stdout).toMatch(/\nb\s+leader\s+https:\/\/127\.0\.0\.1:2\s/);
  });
});

describe('agent join through a follower', () => {
  it('the join follows the 307 to the leader with the same CSR and token; the worker is enrolled by the leader', async () => {
    const { join } = await import('../../../agent/commands/join.js');
    const { caCertHash, signCsr } = await import('../../../pki/index.js');
    const pem = (f: string) => readFileSync(path.join(fleet, f), 'utf8');
    const ca = { certPem: pem('ca.crt'), keyPem: pem('ca.key') };
    const joins: { token: string; name: string }[] = [];
    /** A member without client-certificate checks (join comes before the worker has one), sending its chain with the CA. */
    const stand = async (handle: (req: import('node:http').IncomingMessage, body: string, res: import('node:http').ServerResponse) => void) => {
      const server = https.createServer({ cert: pem('controller.crt') + pem('ca.crt'), key: pem('controller.key') }, (req, res) => {
        let t = '';
        req.on('data', (c) => (t += c));
        req.on('end', () => handle(req, t, res));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    };
    const leader = await stand(async (req, body, res) => {
      const b = JSON.parse(body);
      joins.push({ token: b.token, name: b.name });
      const { certPem } = await signCsr({ ca, csrPem: b.csr, role: 'agent', name: b.name, ipAddresses: ['127.0.0.1'] });
      json(res, 200, { cert: certPem, signingPublicKey: pem('signing.pub'), group: 'lab', node: b.name });
    });
    const follower = await stand((req, _body, res) => json(res, 307, { code: 'NW_NOT_LEADER', message: 'not the leader' }, { location: `${leader}${req.url}` }));
    const out = path.join(dir, 'w1', 'agent.yaml');
    const r = await join({ controller: follower, token: 'abcdef.0123456789abcdef', caCertHash: caCertHash(ca.certPem), configOut: out, listen: '127.0.0.1:9443', name: 'w1', timeoutMs: 10_000 });
    expect(r).toMatchObject({ node: 'w1', group: 'lab' });
    expect(joins).toEqual([{ token: 'abcdef.0123456789abcdef', name: 'w1' }]);
    expect(readFileSync(path.join(dir, 'w1', 'ca.crt'), 'utf8')).toBe(ca.certPem);
  });
});
