// What only the SQLite adapter does: its file, the epoch it takes at open, its migrations over
// older databases. Everything else is the contract suite (test/integration/controller/store/).
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../controller/store/migrations.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { tempDir } from '../../tmp.js';
import { node, rollout, T0, T1 } from '../../fixtures/store-records.js';


const open: SqliteStore[] = [];
const openStore = (stateDir: string): SqliteStore => {
  const s = openSqliteStore({ stateDir });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe('sqlite store', () => {
  it('creates controller.db owner-only and takes a new epoch at every open', async () => {
    const dir = tempDir('nw-store-');
    const a = openStore(dir);
    expect(a.epoch).toBe(1);
    expect(statSync(path.join(dir, 'controller.db')).mode & 0o777).toBe(0o600);
    await a.close();
    open.splice(0);
    expect(openStore(dir).epoch).toBe(2);
  });

  it('forgets, when opened, a generation an older controller stored without having signed it', async () => {
    const dir = tempDir('nw-store-');
    const s = openStore(dir);
    await s.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, []);
    await s.commitTransition('r1', 0, rollout(1), [{ node: 'w1', generation: 3, desired: {}, bundle: {}, at: T1 }], []);
    for (const [name, generation] of [['w1', 3], ['w2', 2 ** 53 - 1], ['w3', 4]] as const) {
      await s.putNode(node(name));
      await s.observeNode(name, { health: 'healthy', reason: null, generation, converged: true, ready: true, at: T1 });
    }
    await s.close();
    const again = openStore(dir);
    expect(await Promise.all(['w1', 'w2', 'w3'].map(async (n) => (await again.getNode(n))?.generation))).toEqual([3, null, null]);
    expect(await again.nextGeneration('w2')).toBe(1);
    await again.close();
  });

  it('migration 2 adds the certificate expiry to a version-1 database and keeps its nodes', async () => {
    const dir = tempDir('nw-store-');
    // what a version-1 controller left: its schema and one node
    const db = new Database(path.join(dir, 'controller.db'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    for (const sql of MIGRATIONS[0].statements) db.exec(sql);
    db.prepare(`INSERT INTO schema_migrations (version, name) VALUES (1, 'initial schema')`).run();
    db.prepare(`INSERT INTO nodes (name, node_group, labels, url, cert_sha256, facts, enrolled_at, health, reason, health_since, last_seen_at, generation, converged, ready)
                VALUES ('w1', 'workers', '{}', 'https://127.0.0.1:9443', ?, '{"hostname":"w1","addresses":[]}', ?, 'unknown', NULL, ?, NULL, NULL, 0, 0)`).run('c'.repeat(64), T0, T0);
    db.close();
    const s = openStore(dir);
    expect(await s.getNode('w1')).toMatchObject({ name: 'w1', certNotAfter: null });
  });
});
