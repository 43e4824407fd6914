// `store migrate` end to end: a controller installation made by `nodewright init` (SQLite, a
// finished and a paused rollout) is moved with `nodewright store migrate`, then served by the same
// controller on the PostgreSQL store: `GET /v1/rollouts` shows both, and the paused one resumes.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initController } from '../../../../controller/commands/init.js';
import { openSqliteStore } from '../../../../controller/store/sqlite.js';
import { requestJson } from '../../../../host/http-json.js';
import { freePort } from '../../../../lab/ports.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { node, rolloutOf, T0, T1 } from '../../../fixtures/store-records.js';
import { tempDir } from '../../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../../agent/fixture.js';

let lab: PostgresLab;
beforeAll(async () => {
  lab = await startPostgres();
}, 120_000);
afterAll(async () => {
  await lab?.stop();
}, 60_000);


it('a migrated installation: the PostgreSQL controller shows the finished and the paused rollout and resumes the paused one', async () => {
  requireBuild();
  const dir = tempDir('nw-ha-migrate-');
  const port = await freePort();
  await initController({ dir, listen: `127.0.0.1:${port}` });
  // what a SQLite controller left: a node (nothing listens at its URL), one finished and one paused rollout
  const sqlite = openSqliteStore({ stateDir: path.join(dir, 'state') });
  await sqlite.putNode(node('w1', { url: 'https://127.0.0.1:1' }));
  for (const [id, state] of [['done', 'completed'], ['held', 'paused']] as const) {
    const r = rolloutOf(id, ['w1'], T0);
    await sqlite.createRollout({ id, state: r, createdAt: id === 'done' ? T0 : T1, updatedAt: T0 }, []);
    await sqlite.commitTransition(id, 0, { ...r, version: 1, state, reason: state === 'paused' ? 'paused by op' : null, updatedAt: T1 }, [], []);
  }
  await sqlite.close();

  const db = await lab.createDatabase('migrated');
  const moved = spawnSync(process.execPath, [CONTROLLER_CLI, 'store', 'migrate', '--from', `sqlite:${path.join(dir, 'state')}`, '--to', lab.url(db)], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: lab.password }, timeout: 120_000,
  });
  expect(moved.status, moved.stderr).toBe(0);

  writeFileSync(path.join(dir, 'pg.pass'), `${lab.password}\n`, { mode: 0o600 });
  appendFileSync(path.join(dir, 'controller.yaml'), `store: "${lab.url(db)}"\nstorePasswordFile: pg.pass\n`);
  const log = path.join(dir, 'controller.log');
  const ctl = spawn(process.execPath, [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(dir, 'controller.yaml')], { stdio: ['ignore', 'ignore', openSync(log, 'a')] });
  const exited = new Promise((r) => ctl.once('exit', r));
  const tls = { ca: readFileSync(path.join(dir, 'ca.crt'), 'utf8'), cert: readFileSync(path.join(dir, 'operator.crt'), 'utf8'), key: readFileSync(path.join(dir, 'operator.key'), 'utf8') };
  const api = (method: string, route: string) => requestJson(`https://127.0.0.1:${port}${route}`, { method, timeoutMs: 5000, ...tls }).catch(() => null);
  try {
    const t0 = Date.now();
    while (((await api('GET', '/v1/controller/status'))?.json as { leader?: string | null } | undefined)?.leader == null) {
      if (Date.now() - t0 > 30_000) throw new Error(`the controller did not lead within 30 s:\n${readFileSync(log, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const list = (await api('GET', '/v1/rollouts'))!.json as { rollouts: { id: string; state: string }[] };
    expect(list.rollouts.map((r) => `${r.id}:${r.state}`).sort()).toEqual(['done:completed', 'held:paused']);
    const resumed = (await api('POST', '/v1/rollouts/held/resume'))!;
    expect(resumed.status, resumed.text).toBe(200);
    expect((resumed.json as { state: string }).state).not.toBe('paused');
    expect(((await api('GET', '/v1/rollouts/held'))!.json as { state: string }).state).not.toBe('paused');
  } finally {
    ctl.kill('SIGTERM');
    await exited;
  }
}, 120_000);
