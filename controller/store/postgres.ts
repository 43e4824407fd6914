// The HA store: PostgreSQL through a `pg` Pool. Same semantics as sqlite.ts method for method;
// what differs is the fence: every write is one transaction that first runs FENCE_SQL with the
// lease the election holds (controller/ha), so a controller that lost leadership writes nothing.
// Reads need no lease (followers serve them). Every write that changes what followers show
// NOTIFYs `nodewright_changes` with its kind, delivered at commit.
// Every query has a client-side deadline (`query_timeout`): a query sent into a half-open TCP
// connection hangs for minutes otherwise (node-postgres #3399), and the server ends a
// transaction left idle (`idle_in_transaction_session_timeout`) so a stuck leader holds no locks.
import pg from 'pg';
import { NwError } from '../../host/errors.js';
import { FENCE_SQL, type Lease } from '../ha/schema.js';
import type { RolloutState } from '../rollout/engine.js';
import { isFinished, summarize, type RolloutSummary } from '../rollout/summary.js';
import { attachKeyring, detachKeyring } from './keyrings.js';
import { migratePg } from './pg-migrations.js';
import { pinnedGenerations, type PruneReport, type RetentionPolicy } from './retention.js';
import {
  decodeCursor, encodeCursor, isLive, json, NODE_COLUMNS, nodeParams, parse, sameHash, summaryRow, toArtifact, toEvent, toNode, toRollout, toToken,
  toUiLoginCode, toUiSession, UI_CODE_EXPIRED, type Row,
} from './rows.js';
import { eventQuerySql } from './event-query.js';
import type {
  ArtifactRecord, ControllerEvent, DesiredRecord, EventQuery, HypervisorChange, HypervisorMapping, HypervisorRule, JoinToken, NodeObservation, NodeRecord,
  RolloutPage, RolloutRecord, Store, UiLoginCode, UiSessionRecord,
} from './store.js';

type NewEvent = Omit<ControllerEvent, 'id'>;

/** The channel followers LISTEN on; the payload is one ChangeKind. */
export const CHANGES_CHANNEL = 'nodewright_changes';
export type ChangeKind = 'nodes' | 'rollouts' | 'events' | 'artifacts' | 'tokens';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Else `pg` takes PGPASSWORD (never on argv). */
  password?: string;
  /** The current leadership term (null: not the leader): every write is fenced by it. */
  lease: () => Lease | null;
  /** Called when a write finds that another controller took over (the process stops acting). */
  onFenced?: () => void;
  /** Pool size (default 10). */
  max?: number;
  /** Client-side deadline of every query, ms (default 10 000). */
  queryTimeoutMs?: number;
  /** The server ends a transaction idle this long, ms (default 15 000). */
  idleInTransactionMs?: number;
  /** The server cancels a statement waiting this long for a lock, ms (default: no limit). */
  lockTimeoutMs?: number;
  /** Connecting gives up after this, ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** One connection (the pool's, or a transaction's). */
type Db = Pick<pg.PoolClient, 'query'>;

const q = async (db: Db, sql: string, params: unknown[] = []): Promise<Row[]> => (await db.query(sql, params)).rows as Row[];

/** The URL with the password in it: `pg` lets the URL's (empty) password override a separate one. */
export function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

export const poolConfig = (o: PostgresStoreOptions): pg.PoolConfig => ({
  connectionString: withPassword(o.connectionString, o.password),
  max: o.max ?? 10,
  query_timeout: o.queryTimeoutMs ?? 10_000,
  connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
  idle_in_transaction_session_timeout: o.idleInTransactionMs ?? 15_000,
  ...(o.lockTimeoutMs === undefined ? {} : { lock_timeout: o.lockTimeoutMs }),
  keepAlive: true,
  application_name: 'nodewright',
});

/** Connects, migrates (under the migration lock) and returns the store; NW_STATE when the database cannot be reached. */
export async function openPostgresStore(o: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = new pg.Pool(poolConfig(o));
  // an idle client's connection dropped (server restart): the next query takes a new one
  pool.on('error', () => undefined);
  try {
    const c = await pool.connect();
    try {
      await migratePg(c);
    } finally {
      c.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (e instanceof NwError) throw e;
    throw new NwError('NW_STATE', `cannot open the controller database ${redact(o.connectionString)}: ${(e as Error).message}; check that PostgreSQL runs, the URL and the password (PGPASSWORD or the password file)`);
  }
  return new PostgresStore(pool, o);
}

/** The URL without a password in it, for messages. */
export const redact = (url: string): string => url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');

/** A write transaction: its connection and the kinds of change it NOTIFYs at commit. */
interface Tx { db: Db; notify(kind: ChangeKind): void }

export class PostgresStore implements Store {
  constructor(readonly pool: pg.Pool, private readonly o: PostgresStoreOptions) {}

  get epoch(): number {
    return this.o.lease()?.epoch ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** One fenced transaction: nothing is written unless this controller still holds the lease. */
  private async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const lease = this.o.lease();
    if (!lease) return this.fenced(null);
    return this.transaction(async (c) => {
      const fence = await c.query(FENCE_SQL, [lease.epoch, lease.term]);
      if (fence.rowCount !== 1) return await this.fenced(lease);
      const kinds = new Set<ChangeKind>();
      const out = await fn({ db: c, notify: (k) => kinds.add(k) });
      for (const k of kinds) await c.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, k]);
      return out;
    });
  }

  /** BEGIN, `fn`, COMMIT on one pooled connection; ROLLBACK when `fn` throws. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let ok = false;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      ok = true;
      return out;
    } finally {
      // a connection whose ROLLBACK failed (deadline, cut) is destroyed, not given back to the pool
      const broken = ok ? undefined : await c.query('ROLLBACK').then(() => undefined, (e: Error) => e);
      c.release(broken);
    }
  }

  private async fenced(lease: Lease | null): Promise<never> {
    this.o.onFenced?.();
    throw new NwError('NW_STATE', lease
      ? `another controller took over (this one holds epoch ${lease.epoch}); stop this controller`
      : 'another controller took over (this one holds no lease); stop this controller');
  }

  // join tokens

  async addJoinToken(t: JoinToken): Promise<void> {
    await this.write(async (tx) => {
      const r = await tx.db.query(`INSERT INTO join_tokens (id, secret_hash, node_group, labels, expires_at, created_at, used_at, used_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
      [t.id, t.secretHash, t.group, json(t.labels), t.expiresAt, t.createdAt, t.usedAt, t.usedBy]);
      if (r.rowCount !== 1) throw new NwError('NW_EXISTS', `join token ${t.id} already exists; create a new one`);
      tx.notify('tokens');
    });
  }

  async checkJoinToken(id: string, secretHash: string, now: string): Promise<JoinToken> {
    return checkToken(this.pool, id, secretHash, now);
  }

  async consumeJoinToken(id: string, secretHash: string, node: string, now: string): Promise<JoinToken> {
    return this.write((tx) => spendJoinToken(tx, id, secretHash, node, now));
  }

  // inventory

  async putNode(n: NodeRecord): Promise<void> {
    await this.write(async (tx) => {
      await tx.db.query(`INSERT INTO nodes (${NODE_COLUMNS}) VALUES (${NODE_PLACEHOLDERS})
                ON CONFLICT (name) DO UPDATE SET node_group = excluded.node_group, labels = excluded.labels,
                  url = excluded.url, cert_sha256 = excluded.cert_sha256, cert_not_after = excluded.cert_not_after,
                  facts = excluded.facts, hypervisor = excluded.hypervisor, hypervisor_rule = excluded.hypervisor_rule,
                  enrolled_at = excluded.enrolled_at, health = excluded.health, reason = excluded.reason,
                  health_since = excluded.health_since, last_seen_at = excluded.last_seen_at,
                  generation = excluded.generation, converged = excluded.converged, ready = excluded.ready`, nodeValues(n));
      tx.notify('nodes');
    });
  }

  async insertNode(n: NodeRecord, token: { id: string; secretHash: string; at: string }, events: NewEvent[]): Promise<void> {
    await this.write(async (tx) => {
      const r = await tx.db.query(`INSERT INTO nodes (${NODE_COLUMNS}) VALUES (${NODE_PLACEHOLDERS}) ON CONFLICT (name) DO NOTHING`, nodeValues(n));
      if (r.rowCount !== 1) {
        throw new NwError('NW_EXISTS', `node ${n.name} is already enrolled: \`nodewright nodes remove ${n.name}\` first, or join with another --name`);
      }
      await spendJoinToken(tx, token.id, token.secretHash, n.name, token.at);
      for (const e of events) await insertEvent(tx, e);
      tx.notify('nodes');
    });
  }

  async renewNodeCert(name: string, fromSha256: string, to: { certSha256: string; certNotAfter: string }, event: NewEvent): Promise<void> {
    await this.write(async (tx) => {
      const r = await tx.db.query(`UPDATE nodes SET cert_sha256 = $1, cert_not_after = $2 WHERE name = $3 AND cert_sha256 = $4`,
        [to.certSha256, to.certNotAfter, name, fromSha256]);
      if (r.rowCount !== 1) {
        throw new NwError('NW_AUTH', `the certificate of ${name} is no longer the enrolled one (the node was removed or already renewed): join the node again`);
      }
      await insertEvent(tx, event);
      tx.notify('nodes');
    });
  }

  async getNode(name: string): Promise<NodeRecord | null> {
    const [row] = await q(this.pool, `SELECT * FROM nodes WHERE name = $1`, [name]);
    return row ? toNode(row) : null;
  }

  async listNodes(filter: { group?: string; labels?: Record<string, string>; names?: string[] } = {}): Promise<NodeRecord[]> {
    const rows = filter.group === undefined
      ? await q(this.pool, `SELECT * FROM nodes ORDER BY name`)
      : await q(this.pool, `SELECT * FROM nodes WHERE node_group = $1 ORDER BY name`, [filter.group]);
    const names = filter.names ? new Set(filter.names) : null;
    const labels = Object.entries(filter.labels ?? {});
    return rows
      .map(toNode)
      .filter((n) => (names ? names.has(n.name) : true))
      .filter((n) => labels.every(([k, v]) => n.labels[k] === v));
  }

  async removeNode(name: string): Promise<boolean> {
    return this.write(async (tx) => {
      const removed = (await tx.db.query(`DELETE FROM nodes WHERE name = $1`, [name])).rowCount === 1;
      await tx.db.query(`DELETE FROM desired WHERE node = $1`, [name]);
      await deleteUnusedKeyrings(tx.db);
      if (removed) tx.notify('nodes');
      return removed;
    });
  }

  async setLabels(name: string, labels: Record<string, string>): Promise<void> {
    await this.write(async (tx) => {
      const r = await tx.db.query(`UPDATE nodes SET labels = $1 WHERE name = $2`, [json(labels), name]);
      if (r.rowCount !== 1) throw new NwError('NW_NOT_FOUND', `no enrolled node is named ${name}; see \`nodewright nodes ls\``);
      tx.notify('nodes');
    });
  }

  async observeNode(name: string, o: NodeObservation): Promise<boolean> {
    return this.write(async (tx) => {
      const [row] = await q(tx.db, `SELECT * FROM nodes WHERE name = $1`, [name]);
      if (!row) return false;
      const n = toNode(row);
      const same = n.health === o.health && n.reason === o.reason && n.generation === o.generation
        && n.converged === o.converged && n.ready === o.ready;
      if (same) return false;
      const healthSince = n.health === o.health ? n.healthSince : o.at;
      const lastSeenAt = o.health === 'unreachable' ? n.lastSeenAt : o.at;
      await tx.db.query(`UPDATE nodes SET health = $1, reason = $2, health_since = $3, last_seen_at = $4, generation = $5,
                  converged = $6, ready = $7 WHERE name = $8`,
      [o.health, o.reason, healthSince, lastSeenAt, o.generation, o.converged ? 1 : 0, o.ready ? 1 : 0, name]);
      tx.notify('nodes');
      return true;
    });
  }

  async setNodeHypervisors(changes: HypervisorChange[], eventOf: (c: HypervisorChange, from: HypervisorMapping | null) => NewEvent | null): Promise<string[]> {
    if (changes.length === 0) return [];
    return this.write(async (tx) => {
      const written: string[] = [];
      for (const c of changes) {
        const [row] = await q(tx.db, `SELECT hypervisor, hypervisor_rule FROM nodes WHERE name = $1`, [c.name]);
        if (!row) continue; // removed meanwhile
        const from = row.hypervisor === null ? null : { hypervisor: String(row.hypervisor), rule: String(row.hypervisor_rule) as HypervisorRule };
        if (from?.hypervisor === c.to?.hypervisor && from?.rule === c.to?.rule) continue;
        await tx.db.query(`UPDATE nodes SET hypervisor = $1, hypervisor_rule = $2 WHERE name = $3`, [c.to?.hypervisor ?? null, c.to?.rule ?? null, c.name]);
        const e = eventOf(c, from);
        if (e) await insertEvent(tx, e);
        written.push(c.name);
      }
      if (written.length > 0) tx.notify('nodes');
      return written;
    });
  }

  // audit log

  async appendEvent(e: NewEvent): Promise<number> {
    return this.write((tx) => insertEvent(tx, e));
  }

  async listEvents(opts: { afterId?: number; limit?: number } = {}): Promise<ControllerEvent[]> {
    return (await q(this.pool, `SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2`, [opts.afterId ?? 0, opts.limit ?? 1000])).map(toEvent);
  }

  async queryEvents(qy: EventQuery): Promise<ControllerEvent[]> {
    const { sql, params } = eventQuerySql(qy, (i) => `$${i}`, ' COLLATE "C"');
    return (await q(this.pool, sql, params)).map(toEvent);
  }

  // dashboard sign-in: NOT fenced (a browser's state, not the fleet's: followers sign browsers in
  // too), nor the audit events that go with it (a follower's fenced write would depose it)

  /** One unfenced transaction; the events are appended in it. */
  private async unfenced<T>(fn: (db: Db) => Promise<T>, events: (out: T) => NewEvent[]): Promise<T> {
    return this.transaction(async (c) => {
      const out = await fn(c);
      const es = events(out);
      const tx: Tx = { db: c, notify: () => undefined };
      for (const e of es) await insertEvent(tx, e);
      if (es.length > 0) await c.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, 'events']);
      return out;
    });
  }


  async addUiLoginCode(c: UiLoginCode, events: NewEvent[] = []): Promise<void> {
    await this.unfenced(async (db) => {
      await db.query(`INSERT INTO ui_login_codes (code_hash, actor, read_only, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
        [c.codeHash, c.actor, c.readOnly ? 1 : 0, c.createdAt, c.expiresAt]);
    }, () => events);
  }

  /** DELETE … RETURNING: of two controllers consuming one code at once, exactly one gets the row. */
  async consumeUiLoginCode(codeHash: string, now: string): Promise<UiLoginCode> {
    const [row] = await q(this.pool, `DELETE FROM ui_login_codes WHERE code_hash = $1 RETURNING *`, [codeHash]);
    if (!row || !isLive(String(row.expires_at), now)) throw new NwError('NW_TOKEN', UI_CODE_EXPIRED);
    return toUiLoginCode(row);
  }

  async addUiSession(x: UiSessionRecord, events: NewEvent[] = []): Promise<void> {
    await this.unfenced(async (db) => {
      await db.query(`INSERT INTO ui_sessions (id_hash, actor, read_only, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [x.idHash, x.actor, x.readOnly ? 1 : 0, x.csrf, x.createdAt, x.expiresAt]);
    }, () => events);
  }

  async getUiSession(idHash: string, now: string): Promise<UiSessionRecord | null> {
    const [row] = await q(this.pool, `SELECT * FROM ui_sessions WHERE id_hash = $1`, [idHash]);
    return row && isLive(String(row.expires_at), now) ? toUiSession(row) : null;
  }

  async endUiSession(idHash: string): Promise<boolean> {
    return (await this.pool.query(`DELETE FROM ui_sessions WHERE id_hash = $1`, [idHash])).rowCount === 1;
  }

  async revokeUiSessions(events: (revoked: number) => NewEvent[] = () => [], actors?: string[]): Promise<number> {
    return this.unfenced(async (db) => (await (actors ? db.query(`DELETE FROM ui_sessions WHERE actor = ANY($1::text[])`, [actors]) : db.query(`DELETE FROM ui_sessions`))).rowCount ?? 0, events);
  }

  // artifacts

  async putArtifact(a: ArtifactRecord): Promise<void> {
    await this.write(async (tx) => {
      const [old] = await q(tx.db, `SELECT * FROM artifacts WHERE kind = $1 AND version = $2`, [a.kind, a.version]);
      if (old && String(old.sha256) !== a.sha256) {
        throw new NwError('NW_EXISTS', `artifact ${a.kind} ${a.version} already exists with other content (sha256 ${String(old.sha256)}); add it under a new version`);
      }
      await tx.db.query(`INSERT INTO artifacts (kind, version, sha256, size, signature, added_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (kind, version) DO UPDATE SET signature = excluded.signature`,
      [a.kind, a.version, a.sha256, a.size, a.signature, a.addedAt]);
      tx.notify('artifacts');
    });
  }

  async getArtifact(kind: ArtifactRecord['kind'], version: string): Promise<ArtifactRecord | null> {
    const [row] = await q(this.pool, `SELECT * FROM artifacts WHERE kind = $1 AND version = $2`, [kind, version]);
    return row ? toArtifact(row) : null;
  }

  async listArtifacts(): Promise<ArtifactRecord[]> {
    return (await q(this.pool, `SELECT * FROM artifacts ORDER BY kind, added_at, version`)).map(toArtifact);
  }

  // desired state

  async lastDesired(node: string): Promise<DesiredRecord | null> {
    return (await this.desiredHistory(node, 1))[0] ?? null;
  }

  async desiredHistory(node: string, limit = 100): Promise<DesiredRecord[]> {
    return toDesired(this.pool, node, await q(this.pool, `SELECT * FROM desired WHERE node = $1 ORDER BY generation DESC LIMIT $2`, [node, limit]));
  }

  async desiredAt(node: string, generation: number): Promise<DesiredRecord | null> {
    return (await toDesired(this.pool, node, await q(this.pool, `SELECT * FROM desired WHERE node = $1 AND generation = $2`, [node, generation])))[0] ?? null;
  }

  async signedGeneration(node: string): Promise<number> {
    return signedGeneration(this.pool, node);
  }

  /** Above every generation ever signed for the node name (sqlite.ts says why never above a reported one). */
  async nextGeneration(node: string): Promise<number> {
    return (await signedGeneration(this.pool, node)) + 1;
  }

  // rollouts

  async createRollout(r: RolloutRecord, events: NewEvent[]): Promise<void> {
    await this.write(async (tx) => {
      const res = await tx.db.query(`INSERT INTO rollouts (id, version, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [r.id, r.state.version, json(r.state), r.createdAt, r.updatedAt]);
      if (res.rowCount !== 1) throw new NwError('NW_EXISTS', `rollout ${r.id} already exists`);
      await tx.db.query(UPSERT_SUMMARY, summaryRow(r.id, r.createdAt, r.state));
      for (const e of events) await insertEvent(tx, e);
      tx.notify('rollouts');
    });
  }

  async getRollout(id: string): Promise<RolloutRecord | null> {
    return getRollout(this.pool, id);
  }

  async activeRollouts(): Promise<RolloutRecord[]> {
    return activeRollouts(this.pool);
  }

  async listRollouts(opts: { limit?: number; cursor?: string } = {}): Promise<RolloutPage> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), 1000);
    let rows: Row[];
    if (opts.cursor === undefined) {
      rows = await q(this.pool, `SELECT id, created_at, summary FROM rollout_summaries ORDER BY created_at DESC, id DESC LIMIT $1`, [limit + 1]);
    } else {
      const [at, id] = decodeCursor(opts.cursor);
      rows = await q(this.pool, `SELECT id, created_at, summary FROM rollout_summaries WHERE created_at < $1 OR (created_at = $1 AND id < $2)
                      ORDER BY created_at DESC, id DESC LIMIT $3`, [at, id, limit + 1]);
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rollouts: page.map((r) => parse<RolloutSummary>(r.summary)),
      next: rows.length > limit && last ? encodeCursor(String(last.created_at), String(last.id)) : null,
    };
  }

  async commitTransition(id: string, expectedVersion: number, next: RolloutState, desired: DesiredRecord[], events: NewEvent[]): Promise<void> {
    await this.write(async (tx) => {
      const res = await tx.db.query(`UPDATE rollouts SET version = $1, state = $2, updated_at = $3 WHERE id = $4 AND version = $5`,
        [next.version, json(next), next.updatedAt, id, expectedVersion]);
      if (res.rowCount !== 1) {
        const found = await getRollout(tx.db, id);
        throw new NwError(
          found ? 'NW_ROLLOUT' : 'NW_NOT_FOUND',
          found
            ? `rollout ${id} changed meanwhile (version ${found.state.version}, expected ${expectedVersion}); read it again and retry`
            : `no rollout ${id}; see \`nodewright rollout ls\``,
        );
      }
      await tx.db.query(`UPDATE rollout_summaries SET updated_at = $1, active = $2, summary = $3 WHERE id = $4`,
        [next.updatedAt, isFinished(next) ? 0 : 1, json(summarize(next)), id]);
      for (const d of desired) await insertDesired(tx.db, d);
      for (const e of events) await insertEvent(tx, e);
      tx.notify('rollouts');
    });
  }

  // retention

  async prune(p: RetentionPolicy, now: string): Promise<PruneReport> {
    const t = Date.parse(now);
    const before = (ms: number) => new Date(t - ms).toISOString();
    const events = await this.write(async (tx) => {
      let n = (await tx.db.query(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2)`,
        [before(p.eventsMaxAgeMs), p.batch])).rowCount ?? 0;
      const [cut] = await q(tx.db, `SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET $1`, [p.eventsMaxCount]);
      if (cut && n < p.batch) {
        n += (await tx.db.query(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= $1 ORDER BY id LIMIT $2)`, [cut.id, p.batch - n])).rowCount ?? 0;
      }
      if (n > 0) tx.notify('events');
      return n;
    });
    const { desired, keyrings } = await this.write(async (tx) => {
      const pins = pinnedGenerations((await activeRollouts(tx.db)).map((r) => r.state));
      const old = await q(tx.db, `SELECT node, generation FROM (
                  SELECT node, generation, ROW_NUMBER() OVER (PARTITION BY node ORDER BY generation DESC) AS newer FROM desired) ranked
                WHERE newer > $1`, [p.generationsPerNode]);
      let n = 0;
      for (const d of old) {
        if (n >= p.batch) break;
        if (pins.get(String(d.node))?.has(Number(d.generation))) continue;
        n += (await tx.db.query(`DELETE FROM desired WHERE node = $1 AND generation = $2`, [d.node, d.generation])).rowCount ?? 0;
      }
      return { desired: n, keyrings: await deleteUnusedKeyrings(tx.db) };
    });
    // a rollout's state can be megabytes (20,000 nodes): few per transaction
    const rolloutBatch = Math.max(1, Math.min(p.batch, 10));
    const rolloutDetails = await this.write(async (tx) => {
      const rows = await q(tx.db, `SELECT id FROM (
                  SELECT id, updated_at, detail, ROW_NUMBER() OVER (ORDER BY created_at DESC, id DESC) AS newer FROM rollout_summaries WHERE active = 0) f
                WHERE detail = 1 AND (newer > $1 OR updated_at < $2) LIMIT $3`,
      [p.rolloutDetailCount, before(p.rolloutDetailMaxAgeMs), rolloutBatch]);
      for (const { id } of rows) {
        const s = (await getRollout(tx.db, String(id)))!.state;
        await tx.db.query(`UPDATE rollouts SET state = $1 WHERE id = $2`, [json({ ...s, nodes: [], desired: null }), id]);
        await tx.db.query(`UPDATE rollout_summaries SET detail = 0 WHERE id = $1`, [id]);
      }
      if (rows.length > 0) tx.notify('rollouts');
      return rows.length;
    });
    const rollouts = await this.write(async (tx) => {
      const old = await q(tx.db, `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at DESC, id DESC) AS newer FROM rollout_summaries WHERE active = 0) f
                WHERE newer > $1 LIMIT $2`, [p.rolloutSummaryCount, p.batch]);
      for (const { id } of old) {
        await tx.db.query(`DELETE FROM rollouts WHERE id = $1`, [id]);
        await tx.db.query(`DELETE FROM rollout_summaries WHERE id = $1`, [id]);
      }
      if (old.length > 0) tx.notify('rollouts');
      return old.length;
    });
    const joinTokens = await this.write(async (tx) => {
      const n = (await tx.db.query(`DELETE FROM join_tokens WHERE id IN (SELECT id FROM join_tokens WHERE expires_at <= $1 LIMIT $2)`,
        [new Date(t).toISOString(), p.batch])).rowCount ?? 0;
      if (n > 0) tx.notify('tokens');
      return n;
    });
    const expired = async (table: string, key: string) =>
      (await this.pool.query(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at <= $1 LIMIT $2)`,
        [new Date(t).toISOString(), p.batch])).rowCount ?? 0;
    // unfenced, like their writes
    const uiLoginCodes = await expired('ui_login_codes', 'code_hash');
    const uiSessions = await expired('ui_sessions', 'id_hash');
    const more = [events, desired, rollouts, joinTokens, uiLoginCodes, uiSessions].some((n) => n >= p.batch) || rolloutDetails >= rolloutBatch;
    return { events, desired, keyrings, rolloutDetails, rollouts, joinTokens, uiLoginCodes, uiSessions, more };
  }
}

const NODE_PLACEHOLDERS = Array.from({ length: 17 }, (_, i) => `$${i + 1}`).join(', ');

/** nodeParams in NODE_COLUMNS order. */
const nodeValues = (n: NodeRecord): unknown[] => {
  const v = nodeParams(n);
  return [v.name, v.group, v.labels, v.url, v.certSha256, v.certNotAfter, v.facts, v.hypervisor, v.hypervisorRule, v.enrolledAt, v.health, v.reason,
    v.healthSince, v.lastSeenAt, v.generation, v.converged, v.ready];
};

const UPSERT_SUMMARY = `INSERT INTO rollout_summaries (id, created_at, updated_at, active, detail, summary) VALUES ($1, $2, $3, $4, 1, $5)
  ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, active = excluded.active, summary = excluded.summary`;

async function checkToken(db: Db, id: string, secretHash: string, now: string): Promise<JoinToken> {
  const [row] = await q(db, `SELECT * FROM join_tokens WHERE id = $1`, [id]);
  const t = row ? toToken(row) : null;
  if (!t || !sameHash(t.secretHash, secretHash)) {
    throw new NwError('NW_TOKEN', 'the join token is unknown; create one with `nodewright nodes join-token --group G`');
  }
  if (t.usedAt !== null) throw new NwError('NW_TOKEN', `the join token was already used (by ${t.usedBy}); create a new one`);
  if (Date.parse(t.expiresAt) <= Date.parse(now)) {
    throw new NwError('NW_TOKEN', `the join token expired at ${t.expiresAt}; create a new one`);
  }
  return t;
}

async function spendJoinToken(tx: Tx, id: string, secretHash: string, node: string, now: string): Promise<JoinToken> {
  const t = await checkToken(tx.db, id, secretHash, now);
  await tx.db.query(`UPDATE join_tokens SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL`, [now, node, id]);
  tx.notify('tokens');
  return { ...t, usedAt: now, usedBy: node };
}

async function insertEvent(tx: Tx, e: NewEvent): Promise<number> {
  const [row] = await q(tx.db, `INSERT INTO events (at, actor, kind, subject, message, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [e.at, e.actor, e.kind, e.subject, e.message, e.data === undefined ? null : json(e.data)]);
  tx.notify('events');
  return Number(row.id);
}

async function signedGeneration(db: Db, node: string): Promise<number> {
  const [row] = await q(db, `SELECT generation FROM generation_marks WHERE node = $1`, [node]);
  return row ? Number(row.generation) : 0;
}

async function insertDesired(db: Db, d: DesiredRecord): Promise<void> {
  const last = await signedGeneration(db, d.node);
  if (!Number.isInteger(d.generation) || d.generation <= last) {
    throw new NwError('NW_STALE', `generation ${d.generation} for node ${d.node} is not above ${last}; take the next one from nextGeneration()`);
  }
  const stored = detachKeyring(d.desired, d.bundle);
  if (stored.keyring) {
    await db.query(`INSERT INTO keyrings (sha256, keyring) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`, [stored.keyring.sha256, stored.keyring.value]);
  }
  await db.query(`INSERT INTO desired (node, generation, desired, bundle, at, keyring_sha256) VALUES ($1, $2, $3, $4, $5, $6)`,
    [d.node, d.generation, json(stored.desired), json(stored.bundle), d.at, stored.keyring?.sha256 ?? null]);
  await db.query(`INSERT INTO generation_marks (node, generation) VALUES ($1, $2)
              ON CONFLICT (node) DO UPDATE SET generation = excluded.generation WHERE excluded.generation > generation_marks.generation`,
  [d.node, d.generation]);
}

async function deleteUnusedKeyrings(db: Db): Promise<number> {
  return (await db.query(`DELETE FROM keyrings WHERE NOT EXISTS (SELECT 1 FROM desired WHERE desired.keyring_sha256 = keyrings.sha256)`)).rowCount ?? 0;
}

/** Desired rows with their keyrings put back (one query for all the keyrings they refer to). */
async function toDesired(db: Db, node: string, rows: Row[]): Promise<DesiredRecord[]> {
  const refs = [...new Set(rows.map((r) => r.keyring_sha256).filter((k): k is string => typeof k === 'string'))];
  const keyrings = new Map<string, string>();
  if (refs.length > 0) {
    for (const k of await q(db, `SELECT sha256, keyring FROM keyrings WHERE sha256 = ANY($1)`, [refs])) keyrings.set(String(k.sha256), String(k.keyring));
  }
  const keyring = (sha256: string): string => {
    const k = keyrings.get(sha256);
    if (k === undefined) throw new NwError('NW_STATE', `the keyring ${sha256.slice(0, 12)}… of node ${node}'s desired state is missing from the store; restore the database from a backup`);
    return k;
  };
  return rows.map((r) => ({
    node: String(r.node),
    generation: Number(r.generation),
    desired: attachKeyring(parse(r.desired), keyring),
    bundle: attachKeyring(parse(r.bundle), keyring),
    at: String(r.at),
  }));
}

async function getRollout(db: Db, id: string): Promise<RolloutRecord | null> {
  const [row] = await q(db, `SELECT r.*, s.detail, s.summary FROM rollouts r LEFT JOIN rollout_summaries s ON s.id = r.id WHERE r.id = $1`, [id]);
  return row ? toRollout(row) : null;
}

async function activeRollouts(db: Db): Promise<RolloutRecord[]> {
  return (await q(db, `SELECT r.*, s.detail, s.summary FROM rollout_summaries s JOIN rollouts r ON r.id = s.id WHERE s.active = 1 ORDER BY s.created_at, s.id`))
    .map(toRollout);
}
