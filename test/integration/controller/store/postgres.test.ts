// What only the PostgreSQL store does: the lease fence (a stale or missing lease writes nothing and
// reports onFenced), NOTIFY of each change at commit, migrations under the advisory lock, and the
// client-side deadline on every query.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../../../controller/ha/schema.js';
import { CHANGES_CHANNEL, openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../../../controller/store/postgres.js';
import { latestPgSchemaVersion } from '../../../../controller/store/pg-migrations.js';
import type { NodeRecord } from '../../../../controller/store/store.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { codeOf, takeLease } from './harness.js';

const T0 = '2026-12-01T10:00:00.000Z';
const node = (name: string): NodeRecord => ({
  name, group: 'workers', labels: {}, url: 'https://127.0.0.1:9443', certSha256: 'c'.repeat(64), certNotAfter: null,
  facts: { hostname: name, addresses: [] }, enrolledAt: T0, health: 'unknown', reason: null, healthSince: T0, lastSeenAt: null,
  generation: null, converged: false, ready: false,
});

let lab: PostgresLab;
const stores: PostgresStore[] = [];
const clients: pg.Client[] = [];
beforeAll(async () => {
  lab = await startPostgres();
}, 120_000);
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});
afterAll(async () => {
  await lab?.stop();
}, 60_000);

const open = async (db: string, o: Partial<PostgresStoreOptions> & { lease: () => Lease | null }): Promise<PostgresStore> => {
  const s = await openPostgresStore({ connectionString: lab.url(db), password: lab.password, max: 3, ...o });
  stores.push(s);
  return s;
};
const client = async (db: string): Promise<pg.Client> => {
  const c = new pg.Client({ connectionString: lab.urlWithPassword(db) });
  clients.push(c);
  await c.connect();
  return c;
};
const count = async (db: string, table: string) => Number((await (await client(db)).query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0].n);

describe('postgres store: fencing by the lease', () => {
  it('a stale lease (another controller took a newer term) writes nothing, throws NW_STATE and calls onFenced', async () => {
    const db = await lab.createDatabase();
    let lease: Lease | null = null;
    let fenced = 0;
    const s = await open(db, { lease: () => lease, onFenced: () => fenced++ });
    lease = await takeLease(s.pool);
    expect(s.epoch).toBe(lease.epoch);
    await s.putNode(node('w1'));
    const stale = lease;
    const next = await takeLease(s.pool); // another controller's term
    expect(next.epoch).toBe(stale.epoch + 1);
    expect(await codeOf(s.putNode(node('w2')))).toBe('NW_STATE');
    expect(await codeOf(s.appendEvent({ at: T0, actor: 'x', kind: 'k', subject: 's', message: 'm' }))).toBe('NW_STATE');
    expect(fenced).toBe(2);
    expect(await count(db, 'nodes')).toBe(1);
    expect(await count(db, 'events')).toBe(0);
    // the same epoch with another term (a term id is fresh every time) is stale too
    lease = { epoch: next.epoch, term: 'not-the-term' };
    expect(await codeOf(s.setLabels('w1', { a: 'b' }))).toBe('NW_STATE');
    expect((await s.getNode('w1'))?.labels).toEqual({});
    // reads need no lease
    lease = null;
    expect(s.epoch).toBe(0);
    expect((await s.listNodes()).map((n) => n.name)).toEqual(['w1']);
    expect(await codeOf(s.removeNode('w1'))).toBe('NW_STATE');
    expect(fenced).toBe(4);
    expect(await count(db, 'nodes')).toBe(1);
    // with the current term it writes again
    lease = next;
    await s.putNode(node('w2'));
    expect(await count(db, 'nodes')).toBe(2);
  });
});

describe('postgres store: NOTIFY nodewright_changes', () => {
  it('each committed change notifies its kinds; refused and unchanged writes notify nothing', async () => {
    const db = await lab.createDatabase();
    let lease: Lease | null = null;
    const s = await open(db, { lease: () => lease });
    lease = await takeLease(s.pool);
    const listener = await client(db);
    const got: string[] = [];
    listener.on('notification', (n) => { if (n.channel === CHANGES_CHANNEL) got.push(String(n.payload)); });
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    const settle = async () => {
      await listener.query('SELECT 1'); // notifications sent before this round trip have arrived
      return got.splice(0).sort();
    };
    await s.putNode(node('w1'));
    expect(await settle()).toEqual(['nodes']);
    const healthy = { health: 'healthy' as const, reason: null, generation: null, converged: true, ready: true, at: T0 };
    await s.observeNode('w1', healthy);
    expect(await settle()).toEqual(['nodes']);
    await s.observeNode('w1', healthy); // unchanged: nothing written
    expect(await settle()).toEqual([]);
    await s.addJoinToken({ id: 't', secretHash: 'a'.repeat(64), group: 'g', labels: {}, expiresAt: '2027-01-01T00:00:00.000Z', createdAt: T0, usedAt: null, usedBy: null });
    expect(await settle()).toEqual(['tokens']);
    await s.putArtifact({ kind: 'kubelet-binary', version: 'v1', sha256: 'd'.repeat(64), size: 1, signature: 's', addedAt: T0 });
    expect(await settle()).toEqual(['artifacts']);
    await s.appendEvent({ at: T0, actor: 'op', kind: 'k', subject: 's', message: 'm' });
    expect(await settle()).toEqual(['events']);
    await expect(s.setLabels('nope', {})).rejects.toThrow(/no enrolled node/);
    lease = { ...lease, term: 'stale' };
    await expect(s.putNode(node('w2'))).rejects.toThrow(/another controller took over/);
    expect(await settle()).toEqual([]);
  });
});

describe('postgres store: PostgreSQL restarted', () => {
  it('the pool drops the cut connections and the store reads and writes again', async () => {
    const db = await lab.createDatabase();
    let lease: Lease | null = null;
    const s = await open(db, { lease: () => lease });
    lease = await takeLease(s.pool);
    await Promise.all([s.putNode(node('w1')), s.listNodes(), s.listEvents()]); // several pooled connections
    await lab.restart();
    await s.putNode(node('w2'));
    expect((await s.listNodes()).map((n) => n.name)).toEqual(['w1', 'w2']);
  }, 60_000);
});

describe('postgres store: migrations and timeouts', () => {
  it('controllers opening an empty database at once migrate it once; a newer schema is refused', async () => {
    const db = await lab.createDatabase();
    await Promise.all([1, 2, 3].map(() => open(db, { lease: () => null })));
    const versions = (await (await client(db)).query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
    expect(versions).toEqual(Array.from({ length: latestPgSchemaVersion() }, (_, i) => i + 1));
    expect(Number((await (await client(db)).query('SELECT epoch FROM ha_leader')).rows[0].epoch)).toBe(0);
    await (await client(db)).query(`INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')`);
    await expect(open(db, { lease: () => null })).rejects.toThrow(/schema version 99, newer than this controller knows/);
  });

  it('an unreachable database is NW_STATE without the password in the message', async () => {
    const err = await openPostgresStore({ connectionString: `postgres://postgres:hunter2secret@127.0.0.1:${lab.port}/postgres`, password: 'wrong-password', lease: () => null })
      .then(() => null, (e: Error) => e);
    expect(err).toMatchObject({ code: 'NW_STATE' });
    expect(err!.message).toMatch(/cannot open the controller database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    expect(err!.message).not.toMatch(/hunter2secret|wrong-password/);
  });

  it('every query has a client-side deadline; the pool sets idle_in_transaction_session_timeout', async () => {
    const db = await lab.createDatabase();
    let lease: Lease | null = null;
    const s = await open(db, { lease: () => lease, queryTimeoutMs: 800, idleInTransactionMs: 4000 });
    lease = await takeLease(s.pool);
    expect((await s.pool.query('SHOW idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout).toBe('4s');
    // another session holds the leadership row: the fence waits, and the deadline ends the wait
    const holder = await client(db);
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM ha_leader FOR UPDATE');
    const t0 = Date.now();
    await expect(s.putNode(node('w1'))).rejects.toThrow(/timeout/i);
    expect(Date.now() - t0).toBeLessThan(5000);
    await holder.query('ROLLBACK');
    await s.putNode(node('w1'));
    expect(await count(db, 'nodes')).toBe(1);
  });
});
