// `nodewright store migrate` as a real process (node dist/controller/cli.js): a SQLite
// installation with a finished and a paused rollout, nodes, a join token, events, a keyring and an
// artifact moves into an empty PostgreSQL database; the PostgreSQL store shows all of it. A second
// run (the target is no longer empty) and a password on argv are refused.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgBlobStore } from '../../../../controller/artifacts/pg-blobs.js';
import { ArtifactStore } from '../../../../controller/artifacts/store.js';
import type { Lease } from '../../../../controller/ha/schema.js';
import { newRollout, type RolloutState } from '../../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../../controller/rollout/strategy.js';
import { openPostgresStore } from '../../../../controller/store/postgres.js';
import { openSqliteStore } from '../../../../controller/store/sqlite.js';
import type { NodeRecord } from '../../../../controller/store/store.js';
import { generateSigningKeys, loadPrivateKey } from '../../../../protocol/bundle.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { tempDir } from '../../../tmp.js';
import { takeLease } from './harness.js';

const CLI = path.resolve('dist/controller/cli.js');
const T0 = '2026-12-01T10:00:00.000Z';
const T1 = '2026-12-01T10:05:00.000Z';
const KEYRING = '[client.k8s]\n\tkey = AQBqZ2dkAAAAABAAq0v+0q9mC0w0k7V1vOq2Zw==\n';
const node = (name: string): NodeRecord => ({
  name, group: 'workers', labels: { rack: 'r1' }, url: 'https://127.0.0.1:9443', certSha256: 'c'.repeat(64), certNotAfter: T1,
  facts: { hostname: name, addresses: ['127.0.0.1'] }, enrolledAt: T0, hypervisor: 'cmp-a', hypervisorRule: 'name',
  health: 'healthy', reason: null, healthSince: T0, lastSeenAt: T0, generation: null, converged: true, ready: true,
});
const rolloutOf = (id: string): RolloutState => newRollout({
  id, target: 'group workers', now: T0, strategy: parseStrategy(),
  nodes: [{ name: 'w1', baseGeneration: 0, previousGeneration: null, canRollBack: false }],
});

const UI_SESSION = { idHash: 's'.repeat(64), actor: 'operator:alice', readOnly: true, csrf: 'x'.repeat(43), createdAt: T0, expiresAt: '2027-01-01T00:00:00.000Z' };

let lab: PostgresLab;
beforeAll(async () => {
  lab = await startPostgres();
}, 120_000);
afterAll(async () => {
  await lab?.stop();
}, 60_000);

const migrate = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('node', [CLI, 'store', 'migrate', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 120_000 });

/** A SQLite installation as a controller leaves it. */
async function installation(): Promise<{ stateDir: string; kubelet: Buffer }> {
  const stateDir = tempDir('nw-migrate-');
  const s = openSqliteStore({ stateDir });
  try {
    for (const n of ['w1', 'w2']) await s.putNode(node(n));
    await s.addJoinToken({ id: 'tok', secretHash: 'a'.repeat(64), group: 'workers', labels: {}, expiresAt: '2027-01-01T00:00:00.000Z', createdAt: T0, usedAt: null, usedBy: null });
    const kubelet = Buffer.alloc(3 * 1024 * 1024 + 5, 'k');
    const file = path.join(tempDir('nw-migrate-src-'), 'kubelet');
    writeFileSync(file, kubelet);
    await new ArtifactStore({ stateDir, store: s, signingKey: loadPrivateKey(generateSigningKeys().privateKeyPem), now: () => T0 }).add(file, { kind: 'kubelet-binary', version: 'v1' });
    const done = rolloutOf('done');
    await s.createRollout({ id: 'done', state: done, createdAt: T0, updatedAt: T0 }, [{ at: T0, actor: 'op', kind: 'rollout.created', subject: 'done', message: 'created' }]);
    const desired = { schema: 1, generation: 1, ceph: { keyring: KEYRING } };
    await s.commitTransition('done', 0, { ...done, version: 1, updatedAt: T0 }, [{ node: 'w1', generation: 1, desired, bundle: { desired, sig: 'x' }, at: T0 }], []);
    await s.commitTransition('done', 1, { ...done, version: 2, state: 'completed', updatedAt: T0 }, [], [{ at: T0, actor: 'engine', kind: 'rollout.completed', subject: 'done', message: 'completed' }]);
    await s.addUiSession(UI_SESSION);
    await s.addUiLoginCode({ codeHash: 'c'.repeat(64), actor: 'operator:alice', readOnly: false, createdAt: T0, expiresAt: '2027-01-01T00:00:00.000Z' });
    const held = rolloutOf('held');
    await s.createRollout({ id: 'held', state: held, createdAt: T1, updatedAt: T1 }, []);
    await s.commitTransition('held', 0, { ...held, version: 1, state: 'paused', reason: 'paused by op', updatedAt: T1 }, [], [{ at: T1, actor: 'op', kind: 'rollout.paused', subject: 'held', message: 'paused' }]);
    return { stateDir, kubelet };
  } finally {
    await s.close();
  }
}

describe('nodewright store migrate', () => {
  it('copies a SQLite installation into an empty PostgreSQL database; the PostgreSQL store shows both rollouts', async () => {
    const { stateDir, kubelet } = await installation();
    const db = await lab.createDatabase('migrate');
    const pwFile = path.join(tempDir('nw-migrate-pw-'), 'pw');
    writeFileSync(pwFile, `${lab.password}\n`, { mode: 0o600 });
    const r = migrate(['--from', `sqlite:${stateDir}`, '--to', lab.url(db), '--password-file', pwFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rollouts\s+2\s+2/);
    expect(r.stdout).toMatch(/nodes\s+2\s+2/);
    expect(r.stdout).toMatch(/artifact blobs\s+1\s+1/);
    expect(r.stdout).toMatch(/every count matches/);

    let lease: Lease | null = null;
    const pgs = await openPostgresStore({ connectionString: lab.url(db), password: lab.password, lease: () => lease, max: 2 });
    try {
      const sqlite = openSqliteStore({ stateDir }); // epoch +1 again: the copy carried the epoch it saw
      const epochThen = sqlite.epoch - 1;
      try {
        expect((await pgs.listRollouts()).rollouts.map((x) => `${x.id}:${x.state}`)).toEqual(['held:paused', 'done:completed']);
        expect((await pgs.activeRollouts()).map((x) => x.id)).toEqual(['held']);
        expect(await pgs.getRollout('held')).toEqual(await sqlite.getRollout('held'));
        expect(await pgs.getRollout('done')).toEqual(await sqlite.getRollout('done'));
        expect(await pgs.listNodes()).toEqual(await sqlite.listNodes());
        expect(await pgs.listEvents()).toEqual(await sqlite.listEvents());
        expect(await pgs.lastDesired('w1')).toEqual(await sqlite.lastDesired('w1'));
        expect((await pgs.lastDesired('w1'))?.desired).toMatchObject({ ceph: { keyring: KEYRING } });
        expect(await pgs.listArtifacts()).toEqual(await sqlite.listArtifacts());
        expect(await pgs.nextGeneration('w1')).toBe(2);
        expect((await pgs.checkJoinToken('tok', 'a'.repeat(64), T1)).group).toBe('workers');
        // dashboard sessions go over (browsers stay signed in); 60-second sign-in codes do not
        expect(r.stdout).toMatch(/ui_sessions\s+1\s+1/);
        expect(await pgs.getUiSession(UI_SESSION.idHash, T1)).toEqual(UI_SESSION);
        await expect(pgs.consumeUiLoginCode('c'.repeat(64), T1)).rejects.toThrow(/already used or has expired/);
        // the blob downloads from the database
        const [art] = await pgs.listArtifacts();
        const blob = (await new PgBlobStore(pgs.pool).open(art.sha256))!;
        const parts: Buffer[] = [];
        for await (const c of blob.stream) parts.push(c as Buffer);
        expect(Buffer.concat(parts).equals(kubelet)).toBe(true);
        // the first PostgreSQL leader's epoch is above every SQLite one; new events follow the copied ids
        lease = await takeLease(pgs.pool);
        expect(lease.epoch).toBe(epochThen + 1);
        const lastId = (await pgs.listEvents()).at(-1)!.id;
        expect(await pgs.appendEvent({ at: T1, actor: 'op', kind: 'k', subject: 's', message: 'm' })).toBe(lastId + 1);
        // the paused rollout resumes on the PostgreSQL store
        const held = (await pgs.getRollout('held'))!.state;
        await pgs.commitTransition('held', held.version, { ...held, version: held.version + 1, state: 'running', reason: null }, [], []);
        expect((await pgs.activeRollouts()).map((x) => x.state.state)).toEqual(['running']);
      } finally {
        sqlite.close();
      }
    } finally {
      await pgs.close();
    }

    // a second run: the target is not empty
    const again = migrate(['--from', `sqlite:${stateDir}`, '--to', lab.url(db)], { PGPASSWORD: lab.password });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/^NW_EXISTS: the target database postgres:\/\/postgres@127\.0\.0\.1:\d+\/migrate_\S+ is not empty \(1 row in join_tokens\)/);
  });

  it('refuses a password on argv, a wrong password and a missing installation with coded errors, naming no secret', async () => {
    const { stateDir } = await installation();
    const db = await lab.createDatabase('migrate');
    const onArgv = migrate(['--from', `sqlite:${stateDir}`, '--to', lab.urlWithPassword(db)]);
    expect(onArgv.status).toBe(2);
    expect(onArgv.stderr).toMatch(/^NW_USAGE: the --to URL holds a password/);
    expect(onArgv.stderr).not.toContain(lab.password);
    const wrong = migrate(['--from', `sqlite:${stateDir}`, '--to', lab.url(db)], { PGPASSWORD: 'not-the-password' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/^NW_STATE: cannot open the controller database/);
    expect(wrong.stderr).not.toContain('not-the-password');
    const missing = migrate(['--from', `sqlite:${tempDir('nw-migrate-empty-')}`, '--to', lab.url(db)], { PGPASSWORD: lab.password });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^NW_USAGE: no controller\.db in/);
    expect(readFileSync(path.join(stateDir, 'controller.db')).length).toBeGreaterThan(0);
  });
});
