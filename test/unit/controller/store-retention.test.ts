// Schema 3 over a database an older SQLite controller left (the retention behaviour itself is the
// contract suite's: test/integration/controller/store/retention.test.ts).
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signBundle, verifyBundle } from '../../../protocol/bundle.js';
import { tempDir } from '../../tmp.js';
import { desired, KEYRING, rolloutOf, signGenerations, T0 } from '../../fixtures/store-records.js';


const open: SqliteStore[] = [];
const openStore = (dir = tempDir('nw-retention-')): SqliteStore => {
  const s = openSqliteStore({ stateDir: dir });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

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
             DROP INDEX events_by_at; DROP INDEX join_tokens_by_expiry; ALTER TABLE desired DROP COLUMN keyring_sha256;
             DROP TABLE ui_login_codes; DROP TABLE ui_sessions; DROP INDEX events_by_subject; DROP INDEX events_by_actor; DROP INDEX events_by_kind;`);
    db.prepare(`UPDATE desired SET desired = ?, bundle = ? WHERE generation = 2`).run(JSON.stringify(desired('w1', 2)), JSON.stringify(sign(desired('w1', 2))));
    db.close();
    const r = openStore(dir);
    expect((await r.activeRollouts()).map((x) => x.id)).toEqual(['live']);
    expect((await r.listRollouts()).rollouts.map((x) => x.id)).toEqual(expect.arrayContaining([expect.stringMatching(/^r-w1-/), 'live']));
    expect(await r.signedGeneration('w1')).toBe(2);
    expect(verifyBundle((await r.lastDesired('w1'))!.bundle, pub)).toMatchObject({ generation: 2, ceph: { keyring: KEYRING } });
  });
});
