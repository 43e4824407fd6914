// The HA tables of the PostgreSQL store: one leadership row every leader write is fenced by, and
// one row per controller process (its heartbeat) for `nodewright controller status`. Idempotent:
// the store's migrations and the election both run them.
export const HA_SCHEMA: string[] = [
  `CREATE TABLE IF NOT EXISTS ha_leader (
    id INTEGER PRIMARY KEY CHECK (id = 1), epoch BIGINT NOT NULL, term TEXT NOT NULL,
    leader TEXT, leader_url TEXT, since TEXT)`,
  `INSERT INTO ha_leader (id, epoch, term) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS ha_members (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, started_at TEXT NOT NULL, last_heartbeat TEXT NOT NULL)`,
];

/** The fence every leader write runs first, in its own transaction: zero rows → not the leader any more. */
export const FENCE_SQL = `UPDATE ha_leader SET epoch = epoch WHERE id = 1 AND epoch = $1 AND term = $2`;

/** A leader's term: the epoch it bumped and the fresh term id it wrote. */
export interface Lease { epoch: number; term: string }
