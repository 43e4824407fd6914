// Schema 3 over a database an older SQLite controller left (the retention behaviour itself is the
// contract suite's: test/integration/controller/store/retention.test.ts).
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { newRollout, type RolloutState } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signBundle, verifyBundle } from '../../../protocol/bundle.js';
import { tempDir } from '../../tmp.js';

const T0 = '2026-12-01T10:00:00.000Z';
const KEYRING = '[client.k8s]\n\tkey = AQBqZ2dkAAAAABAAq0v+0q9mC0w0k7V1vOq2Zw==\n';

const open: SqliteStore[] = [];
const openStore = (dir = tempDir('nw-retention-')): SqliteStore => {
  const s = openSqliteStore({ stateDir: dir });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const desired = (name: string, generation: number, keyring = KEYRING) => ({
  schema: 1, generation, nodeGroup: 'workers', nodes: [name],
  ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring },
});

const rolloutOf = (id: string, names: string[], now: string, over: Partial<RolloutState> = {}): RolloutState => ({
  ...newRollout({
    id, target: 'group workers', now, strategy: parseStrategy(),
    nodes: names.map((name) => ({ name, baseGeneration: 0, previousGeneration: null, canRollBack: false })),
  }),
  ...over,
});

/** Sign and record generations 1..n for `name` through a transition of rollout `id`. */
async function signGenerations(s: SqliteStore, name: string, n: number, sign: (d: unknown) => unknown, keyring = KEYRING) {
  const id = `r-${name}-${Math.random().toString(36).slice(2)}`;
  const r = rolloutOf(id, [name], T0);
  await s.createRollout({ id, state: r, createdAt: T0, updatedAt: T0 }, []);
  let v = 0;
  for (let g = await s.nextGeneration(name); g <= n; g++) {
    const d = desired(name, g, keyring);
    await s.commitTransition(id, v, { ...r, version: v + 1 }, [{ node: name, generation: g, desired: d, bundle: sign(d), at: T0 }], []);
    v++;
  }
  await s.commitTransition(id, v, { ...r, version: v + 1, state: 'completed' }, [], []);
}

const keys = generateSigningKeys();
const priv = loadPrivateKey(keys.privateKeyPem);
const pub = loadPublicKey(keys.publicKeyPem);
const sign = (d: unknown) => signBundle(d, priv);

describe('schema 3 over an older database', () => {
  it('fills summaries, active flags and generation marks for rows written before it', async () => {
    const dir = tempDir('nw-retention-');
    const s = openStore(dir);
    await signGenerations(s, 'w1', 2, sign);
    await s.createRollout({ id: 'live', state: rolloutOf('live', ['w1'], T0), createdAt: T0, updatedAt: T0 }, []);
    await s.close();
    open.splice(0);
    // as schema 1 left them: no summaries, no marks, the keyring inline
    const db = new Database(path.join(dir, 'controller.db'));
    db.exec(`DELETE FROM schema_migrations WHERE version >= 3;
             ALTER TABLE nodes DROP COLUMN hypervisor; ALTER TABLE nodes DROP COLUMN hypervisor_rule;
             DROP TABLE generation_marks; DROP TABLE keyrings; DROP TABLE rollout_summaries; DROP INDEX desired_by_keyring;
             DROP INDEX events_by_at; DROP INDEX join_tokens_by_expiry; ALTER TABLE desired DROP COLUMN keyring_sha256;`);
    db.prepare(`UPDATE desired SET desired = ?, bundle = ? WHERE generation = 2`).run(JSON.stringify(desired('w1', 2)), JSON.stringify(sign(desired('w1', 2))));
    db.close();
    const r = openStore(dir);
    expect((await r.activeRollouts()).map((x) => x.id)).toEqual(['live']);
    expect((await r.listRollouts()).rollouts.map((x) => x.id)).toEqual(expect.arrayContaining([expect.stringMatching(/^r-w1-/), 'live']));
    expect(await r.signedGeneration('w1')).toBe(2);
    expect(verifyBundle((await r.lastDesired('w1'))!.bundle, pub)).toMatchObject({ generation: 2, ceph: { keyring: KEYRING } });
  });
});
