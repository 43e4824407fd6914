// `nodewright store migrate`: an installation's SQLite store (and its artifact blobs) copied into
// an empty PostgreSQL database, offline. Opening the SQLite store first migrates it to this
// version's schema and takes a new epoch there, so a controller still running on it can no longer
// write. The rows go over in ONE transaction (all or nothing); the blobs before it (named by their
// content: a failed run leaves nothing a second run trips over). Every table's count is verified.
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { NwError } from '../../host/errors.js';
import { FsBlobStore } from '../artifacts/fs-blobs.js';
import { PgBlobStore } from '../artifacts/pg-blobs.js';
import { openPostgresStore, redact } from './postgres.js';
import { DB_FILE, openSqliteStore } from './sqlite.js';

/**
 * The tables both adapters share, with their columns (SQLite's schema 5 = PostgreSQL's 1–4 and 6).
 * Dashboard sessions go over (browsers stay signed in across the move; only cookie hashes are
 * stored); sign-in codes do not: they live 60 s and the controller is stopped for the copy.
 */
export const COPIED_TABLES: { table: string; columns: string[] }[] = [
  { table: 'join_tokens', columns: ['id', 'secret_hash', 'node_group', 'labels', 'expires_at', 'created_at', 'used_at', 'used_by'] },
  {
    table: 'nodes',
    columns: ['name', 'node_group', 'labels', 'url', 'cert_sha256', 'cert_not_after', 'facts', 'hypervisor', 'hypervisor_rule', 'enrolled_at',
      'health', 'reason', 'health_since', 'last_seen_at', 'generation', 'converged', 'ready'],
  },
  { table: 'events', columns: ['id', 'at', 'actor', 'kind', 'subject', 'message', 'data'] },
  { table: 'artifacts', columns: ['kind', 'version', 'sha256', 'size', 'signature', 'added_at'] },
  { table: 'keyrings', columns: ['sha256', 'keyring'] },
  { table: 'desired', columns: ['node', 'generation', 'desired', 'bundle', 'at', 'keyring_sha256'] },
  { table: 'generation_marks', columns: ['node', 'generation'] },
  { table: 'rollouts', columns: ['id', 'version', 'state', 'created_at', 'updated_at'] },
  { table: 'rollout_summaries', columns: ['id', 'created_at', 'updated_at', 'active', 'detail', 'summary'] },
  { table: 'ui_sessions', columns: ['id_hash', 'actor', 'read_only', 'csrf', 'created_at', 'expires_at'] },
];

export interface CopyCount { table: string; source: number; target: number }

/** A batch is sent at this many rows or bytes (a rollout's state can be megabytes). */
const BATCH_ROWS = 500;
const BATCH_BYTES = 4 * 1024 * 1024;

/** `sqlite:PATH` (the state directory, or its controller.db) → the state directory. */
export function sqliteStateDir(from: string): string {
  if (!from.startsWith('sqlite:')) throw new NwError('NW_USAGE', `--from ${from} is not sqlite:PATH (the controller's state directory)`);
  const p = path.resolve(from.slice('sqlite:'.length));
  const dir = existsSync(p) && statSync(p).isFile() ? path.dirname(p) : p;
  if (!existsSync(path.join(dir, DB_FILE))) throw new NwError('NW_USAGE', `no ${DB_FILE} in ${dir}; give the controller's state directory (controller.yaml stateDir)`);
  return dir;
}

export async function copySqliteToPostgres(o: { stateDir: string; connectionString: string; password?: string }): Promise<CopyCount[]> {
  // migrates the SQLite store to this version and fences any controller still running on it
  const fence = openSqliteStore({ stateDir: o.stateDir });
  await fence.close();
  const src = new Database(path.join(o.stateDir, DB_FILE), { readonly: true });
  const target = await openPostgresStore({ connectionString: o.connectionString, password: o.password, lease: () => null, max: 2, queryTimeoutMs: 120_000 });
  try {
    for (const { table } of COPIED_TABLES) {
      const n = Number((await target.pool.query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0].n);
      if (n > 0) {
        throw new NwError('NW_EXISTS', `the target database ${redact(o.connectionString)} is not empty (${n} row${n === 1 ? '' : 's'} in ${table}); migrate into a new, empty database`);
      }
    }
    const blobs = await copyBlobs(src, o.stateDir, new PgBlobStore(target.pool));
    await copyRows(src, target.pool);
    const counts: CopyCount[] = [];
    for (const { table } of COPIED_TABLES) {
      const source = (src.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      const copied = Number((await target.pool.query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0].n);
      counts.push({ table, source, target: copied });
    }
    const stored = Number((await target.pool.query(`SELECT COUNT(*) AS n FROM artifact_blobs WHERE sha256 = ANY($1)`, [blobs])).rows[0].n);
    counts.push({ table: 'artifact blobs', source: blobs.length, target: stored });
    const off = counts.filter((c) => c.source !== c.target);
    if (off.length > 0) {
      throw new NwError('NW_STATE', `the copy does not match: ${off.map((c) => `${c.table} ${c.source} → ${c.target}`).join(', ')}; drop the target database and run again with the controller stopped`);
    }
    return counts;
  } catch (e) {
    if (e instanceof NwError) throw e;
    throw new NwError('NW_STATE', `the copy into ${redact(o.connectionString)} failed: ${(e as Error).message}; no row was committed (one transaction): fix the cause and run again with the controller stopped`);
  } finally {
    src.close();
    await target.close();
  }
}

/** Each artifact's blob, streamed in and checked against its record; returns the sha256s. */
async function copyBlobs(src: Database.Database, stateDir: string, to: PgBlobStore): Promise<string[]> {
  const files = new FsBlobStore(stateDir);
  const wanted = src.prepare(`SELECT sha256, MAX(size) AS size FROM artifacts GROUP BY sha256`).all() as { sha256: string; size: number }[];
  for (const a of wanted) {
    const file = path.join(files.dir, a.sha256);
    if (!existsSync(file)) {
      throw new NwError('NW_STATE', `the blob of artifact sha256 ${a.sha256} is missing from ${files.dir}; restore the state directory from a backup`);
    }
    await to.put(createReadStream(file), async (b) => {
      if (b.sha256 !== a.sha256 || b.size !== a.size) {
        throw new NwError('NW_CHECKSUM', `the blob ${file} does not match its record (sha256 ${b.sha256}, ${b.size} bytes); restore the state directory from a backup`);
      }
    });
  }
  return wanted.map((a) => a.sha256);
}

/** Every row of every shared table, and the leader epoch, in one transaction. */
async function copyRows(src: Database.Database, pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  let ok = false;
  try {
    await c.query('BEGIN');
    for (const { table, columns } of COPIED_TABLES) {
      let batch: unknown[][] = [];
      let bytes = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const values = batch.map((row, i) => `(${row.map((_, j) => `$${i * columns.length + j + 1}`).join(', ')})`).join(', ');
        await c.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, batch.flat());
        batch = [];
        bytes = 0;
      };
      for (const row of src.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).raw().iterate() as Iterable<unknown[]>) {
        batch.push(row);
        bytes += row.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : 8), 0);
        if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
      }
      await flush();
    }
    // new events continue after the copied ids
    await c.query(`SELECT setval(pg_get_serial_sequence('events', 'id'), GREATEST((SELECT MAX(id) FROM events), 1), (SELECT COUNT(*) > 0 FROM events))`);
    // epochs keep rising across the move: the first PostgreSQL leader's is above every SQLite one
    const epoch = (src.prepare(`SELECT epoch FROM meta WHERE id = 1`).get() as { epoch: number }).epoch;
    await c.query(`UPDATE ha_leader SET epoch = GREATEST(epoch, $1) WHERE id = 1`, [epoch]);
    await c.query('COMMIT');
    ok = true;
  } finally {
    const broken = ok ? undefined : await c.query('ROLLBACK').then(() => undefined, (e: Error) => e);
    c.release(broken);
  }
}
