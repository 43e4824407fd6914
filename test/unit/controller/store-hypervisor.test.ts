// SQLite's migration 4 over an older database (the hypervisor behaviour itself is the contract
// suite's: test/integration/controller/store/hypervisor.test.ts).
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../controller/store/migrations.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { bareNode, mappingEvent, T0 } from '../../fixtures/store-records.js';
import { tempDir } from '../../tmp.js';

const open: SqliteStore[] = [];
const openStore = (dir: string) => {
  const s = openSqliteStore({ stateDir: dir });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const node = bareNode;
const event = mappingEvent;

describe('node hypervisor in the store', () => {
  it('migration 4 adds the columns to a version-3 database and keeps its nodes unmapped', async () => {
    const dir = tempDir('nw-store-hv-');
    const db = new Database(path.join(dir, 'controller.db'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      for (const sql of m.statements) db.exec(sql);
      db.prepare(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`).run(m.version, m.name);
    }
    db.prepare(`INSERT INTO nodes (name, node_group, labels, url, cert_sha256, facts, enrolled_at, health, reason, health_since, last_seen_at, generation, converged, ready)
                VALUES ('w1', 'workers', '{}', 'https://127.0.0.1:9443', ?, '{"hostname":"w1","addresses":[]}', ?, 'unknown', NULL, ?, NULL, NULL, 0, 0)`).run('c'.repeat(64), T0, T0);
    db.close();
    const s = openStore(dir);
    expect(await s.getNode('w1')).toMatchObject({ name: 'w1', hypervisor: null, hypervisorRule: null });
    expect(await s.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-b', rule: 'fixed-ip' } }], event)).toEqual(['w1']);
  });
});
