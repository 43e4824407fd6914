// Versioned schema migrations, applied in order at open, each in its own transaction and recorded
// in schema_migrations. Never edit a shipped migration: add the next one. The SQL stays portable
// (TEXT/INTEGER columns, JSON as TEXT, no SQLite-only syntax) so PostgreSQL can run the same list.
import type Database from 'better-sqlite3';
import { NwError } from '../../host/errors.js';

export interface Migration { version: number; name: string; statements: string[] }

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      // one row: the leader epoch every write is fenced by
      `CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)`,
      `INSERT INTO meta (id, epoch) VALUES (1, 0)`,
      `CREATE TABLE join_tokens (
        id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, node_group TEXT NOT NULL, labels TEXT NOT NULL,
        expires_at TEXT NOT NULL, created_at TEXT NOT NULL, used_at TEXT, used_by TEXT)`,
      `CREATE TABLE nodes (
        name TEXT PRIMARY KEY, node_group TEXT NOT NULL, labels TEXT NOT NULL, url TEXT NOT NULL,
        cert_sha256 TEXT NOT NULL, facts TEXT NOT NULL, enrolled_at TEXT NOT NULL,
        health TEXT NOT NULL, reason TEXT, health_since TEXT NOT NULL, last_seen_at TEXT,
        generation INTEGER, converged INTEGER NOT NULL, ready INTEGER NOT NULL)`,
      `CREATE INDEX nodes_by_group ON nodes (node_group)`,
      `CREATE TABLE events (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
        subject TEXT NOT NULL, message TEXT NOT NULL, data TEXT)`,
      `CREATE TABLE artifacts (
        kind TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
        signature TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (kind, version))`,
      // desired history is kept when a node is removed: a re-enrolled worker still holds its generation
      `CREATE TABLE desired (
        node TEXT NOT NULL, generation INTEGER NOT NULL, desired TEXT NOT NULL, bundle TEXT NOT NULL,
        at TEXT NOT NULL, PRIMARY KEY (node, generation))`,
      `CREATE TABLE rollouts (
        id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    ],
  },
  {
    version: 2,
    name: 'node certificate expiry',
    statements: [
      // not-after of the certificate pinned in cert_sha256 (enrolment or renewal); NULL for nodes enrolled before
      `ALTER TABLE nodes ADD COLUMN cert_not_after TEXT`,
    ],
  },
  {
    version: 3,
    name: 'bounded state: keyrings once, generation marks, rollout summaries, retention indexes',
    statements: [
      // one copy of each distinct keyring; desired rows (and their bundles) hold its sha256
      `CREATE TABLE keyrings (sha256 TEXT PRIMARY KEY, keyring TEXT NOT NULL)`,
      `ALTER TABLE desired ADD COLUMN keyring_sha256 TEXT`,
      `CREATE INDEX desired_by_keyring ON desired (keyring_sha256)`,
      // the highest generation ever signed per node name: survives pruning and node removal (which now purges desired rows)
      `CREATE TABLE generation_marks (node TEXT PRIMARY KEY, generation INTEGER NOT NULL)`,
      `INSERT INTO generation_marks (node, generation) SELECT node, MAX(generation) FROM desired GROUP BY node`,
      // one small row per rollout, beside its (large) state: what rollout ls pages through, the
      // active flag (1 until completed or aborted) and detail (0 once retention dropped the per-node
      // detail); filled at open for rollouts written before
      `CREATE TABLE rollout_summaries (
        id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        active INTEGER NOT NULL, detail INTEGER NOT NULL, summary TEXT NOT NULL)`,
      `CREATE INDEX rollout_summaries_by_created ON rollout_summaries (created_at, id)`,
      `CREATE INDEX rollout_summaries_by_active ON rollout_summaries (active)`,
      `CREATE INDEX events_by_at ON events (at)`,
      `CREATE INDEX join_tokens_by_expiry ON join_tokens (expires_at)`,
    ],
  },
  {
    version: 4,
    name: 'node hypervisor (failure domain) and the rule that found it',
    statements: [
      // the Nova compute host running the worker, mapped by the controller from live Nova; NULL while unmapped
      `ALTER TABLE nodes ADD COLUMN hypervisor TEXT`,
      // instance-uuid, fixed-ip or name (NULL with hypervisor)
      `ALTER TABLE nodes ADD COLUMN hypervisor_rule TEXT`,
    ],
  },
  {
    version: 5,
    name: 'dashboard sign-in codes and sessions, audit log indexes',
    statements: [
      // only sha256s of the one-time code and of the session cookie are stored
      `CREATE TABLE ui_login_codes (
        code_hash TEXT PRIMARY KEY, actor TEXT NOT NULL, read_only INTEGER NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL)`,
      `CREATE INDEX ui_login_codes_by_expiry ON ui_login_codes (expires_at)`,
      `CREATE TABLE ui_sessions (
        id_hash TEXT PRIMARY KEY, actor TEXT NOT NULL, read_only INTEGER NOT NULL, csrf TEXT NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL)`,
      `CREATE INDEX ui_sessions_by_expiry ON ui_sessions (expires_at)`,
      // queryEvents: each filter walks its index newest first
      `CREATE INDEX events_by_subject ON events (subject, id)`,
      `CREATE INDEX events_by_actor ON events (actor, id)`,
      `CREATE INDEX events_by_kind ON events (kind, id)`,
    ],
  },
];

export const latestSchemaVersion = (): number => MIGRATIONS[MIGRATIONS.length - 1].version;

export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  const current = (db.prepare(`SELECT MAX(version) AS v FROM schema_migrations`).get() as { v: number | null }).v ?? 0;
  if (current > latestSchemaVersion()) {
    throw new NwError('NW_STATE', `the controller database has schema version ${current}, newer than this controller knows (${latestSchemaVersion()}); run the newer controller or restore a backup`);
  }
  for (const m of MIGRATIONS.filter((x) => x.version > current)) {
    db.transaction(() => {
      for (const sql of m.statements) db.exec(sql);
      db.prepare(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`).run(m.version, m.name);
    }).immediate();
  }
}
