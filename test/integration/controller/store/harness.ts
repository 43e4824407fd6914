// The store contract suite runs every test against both adapters: `describeEachStore` repeats a
// describe block for SQLite (a temp state dir) and PostgreSQL (a throwaway PostgreSQL 15 from
// lab/postgres per test file, a fresh database per installation). Opening a store makes it the
// leader, as a new controller would: SQLite bumps the epoch at open; for PostgreSQL the harness
// takes a new lease (epoch + 1, a fresh term) the way the election does. Stores opened earlier
// on the same installation are then fenced.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { openPostgresStore } from '../../../../controller/store/postgres.js';
import { openSqliteStore } from '../../../../controller/store/sqlite.js';
import type { Store } from '../../../../controller/store/store.js';
import type { Lease } from '../../../../controller/ha/schema.js';
import { NwError } from '../../../../host/errors.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { tempDir } from '../../../tmp.js';

export type StoreKind = 'sqlite' | 'postgres';
type Row = Record<string, unknown>;

export interface Harness {
  readonly kind: StoreKind;
  /** A new, empty installation; its location for open(). */
  fresh(): Promise<string>;
  /** Opens a store on it that becomes the leader. */
  open(at: string): Promise<Store>;
  /** Raw rows, for what the interface does not show (how secrets are stored, row counts). */
  rows(at: string, sql: string): Promise<Row[]>;
  count(at: string, table: string): Promise<number>;
  readonly lab: PostgresLab | null;
}

/** Takes the next term on the database, as the election does. */
export async function takeLease(pool: pg.Pool): Promise<Lease> {
  const term = randomUUID();
  const r = await pool.query(`UPDATE ha_leader SET epoch = epoch + 1, term = $1 WHERE id = 1 RETURNING epoch`, [term]);
  return { epoch: Number(r.rows[0].epoch), term };
}

export function describeEachStore(title: string, body: (h: Harness) => void): void {
  describe.each<StoreKind>(['sqlite', 'postgres'])(`${title} (%s)`, (kind) => {
    let lab: PostgresLab | null = null;
    const opened: Store[] = [];
    const clients: pg.Client[] = [];
    beforeAll(async () => {
      if (kind === 'postgres') lab = await startPostgres();
    }, 120_000);
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined); // some tests close it themselves
      for (const c of clients.splice(0)) await c.end();
    });
    afterAll(async () => {
      await lab?.stop();
    }, 60_000);

    const rows = async (at: string, sql: string): Promise<Row[]> => {
      if (kind === 'sqlite') {
        const db = new Database(path.join(at, 'controller.db'), { readonly: true });
        try {
          return db.prepare(sql).all() as Row[];
        } finally {
          db.close();
        }
      }
      const c = new pg.Client({ connectionString: lab!.urlWithPassword(at) });
      clients.push(c);
      await c.connect();
      return (await c.query(sql)).rows as Row[];
    };

    const h: Harness = {
      kind,
      get lab() {
        return lab;
      },
      async fresh() {
        return kind === 'sqlite' ? tempDir('nw-store-') : lab!.createDatabase('store');
      },
      async open(at) {
        if (kind === 'sqlite') {
          const s = openSqliteStore({ stateDir: at });
          opened.push(s);
          return s;
        }
        let lease: Lease | null = null;
        const s = await openPostgresStore({ connectionString: lab!.url(at), password: lab!.password, lease: () => lease, max: 3 });
        opened.push(s);
        lease = await takeLease(s.pool);
        return s;
      },
      rows,
      async count(at, table) {
        return Number((await rows(at, `SELECT COUNT(*) AS n FROM ${table}`))[0].n);
      },
    };
    body(h);
  });
}

/** The NwError code a call was refused with (undefined: it was not refused). */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    return (e as NwError).code;
  }
  return undefined;
}
