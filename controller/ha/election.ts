// Leader election on PostgreSQL: a session-level advisory lock held on one dedicated connection
// (never a pool, never a transaction-mode pooler), a term per leadership (epoch + 1 and a fresh
// term id, written in one transaction on that session), heartbeats on the same session, and
// self-fencing: `lease()` answers only while the last good heartbeat is younger than the bound,
// which is shorter than the server's release of the lock (timing.ts says why).
//
// Any error or deadline on the election session closes it: a `pg_try_advisory_lock` abandoned by a
// client-side timeout may still have been granted on the server (greptimedb #7670), and only ending
// the session releases it. The member then reconnects as a follower.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { NwError } from '../../host/errors.js';
import { HA_SCHEMA, type Lease } from './schema.js';
import { haStatusOf, type HaStatus, type LeaderRow, type MemberRow } from './status.js';
import { electionTiming, releaseMs, sessionOptions, type ElectionTiming } from './timing.js';

/** The advisory-lock keys (two int4 form): ('nw', 1) is leadership, ('nw', 2) serialises HA_SCHEMA. */
export const LEADER_LOCK = [0x6e77, 1] as const;
export const SCHEMA_LOCK = [0x6e77, 2] as const;

/** The database's clock as ISO-8601 UTC text (the columns are TEXT). */
const DB_NOW = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const FOLLOWER_TICK = `WITH hb AS (
    INSERT INTO ha_members (name, url, started_at, last_heartbeat) VALUES ($1, $2, $3, ${DB_NOW})
    ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, started_at = EXCLUDED.started_at, last_heartbeat = EXCLUDED.last_heartbeat
    RETURNING 1)
  SELECT pg_try_advisory_lock(${LEADER_LOCK[0]}, ${LEADER_LOCK[1]}) AS got, (SELECT count(*) FROM hb) AS n`;
const BEGIN_TERM = `UPDATE ha_leader SET epoch = epoch + 1, term = $1, leader = $2, leader_url = $3, since = ${DB_NOW} WHERE id = 1 RETURNING epoch`;
const LEADER_TICK = `WITH hb AS (UPDATE ha_members SET last_heartbeat = ${DB_NOW} WHERE name = $1 RETURNING 1)
  SELECT epoch, term, (SELECT count(*) FROM hb) AS n FROM ha_leader WHERE id = 1`;

export interface ElectionOptions {
  connectionString: string;
  /** The database password when it is not in the connection string (never on argv). */
  password?: string;
  member: { name: string; url: string };
  timing?: Partial<ElectionTiming>;
  /** A monotonic clock in ms (tests may step it); performance.now() by default. */
  now?: () => number;
}

export type DeposedReason = 'heartbeat-failed' | 'heartbeat-late' | 'term-changed' | 'session-lost' | 'stopped';

/** One open election session; `broken` is set the moment the connection errs or ends. */
interface Session { client: pg.Client; broken: boolean }

/** The current term and when its last good heartbeat was sent. */
interface Term extends Lease { lastGoodSentAt: number }

export interface ElectionEvents {
  elected: [lease: Lease];
  deposed: [reason: DeposedReason];
  /** The election session failed (it is closed and reopened); for logs. */
  sessionError: [error: Error];
}

export class Election extends EventEmitter<ElectionEvents> {
  readonly timing: ElectionTiming;
  private readonly now: () => number;
  private readonly startedAt = new Date().toISOString();
  private session: Session | null = null;
  private term: Term | null = null;
  /** This session held a term (for the back-off after losing it). */
  private led = false;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private statusClient: pg.Client | null = null;
  private statusRead: Promise<HaStatus> | null = null;

  constructor(private readonly opts: ElectionOptions) {
    super();
    this.timing = electionTiming(opts.timing);
    this.now = opts.now ?? (() => performance.now());
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Steps down (if leading), closes the session (which releases the lock) and ends the loop. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.depose('stopped');
    this.wake?.();
    await this.loop;
    const s = this.session;
    this.session = null;
    if (s && !s.broken) await Promise.race([s.client.end().catch(() => {}), new Promise((r) => setTimeout(r, this.timing.queryTimeoutMs))]);
    if (s) destroy(s);
    const c = this.statusClient;
    this.statusClient = null;
    await c?.end().catch(() => {});
  }

  /**
   * The lease to fence writes with, or null: not the leader, or its last good heartbeat was sent
   * `boundMs` ago or more (then it steps down now, not at the next timer).
   */
  lease(): Lease | null {
    const t = this.term;
    if (!t) return null;
    if (this.now() - t.lastGoodSentAt >= this.timing.boundMs) {
      this.depose('heartbeat-late');
      return null;
    }
    return { epoch: t.epoch, term: t.term };
  }

  /**
   * Leader, epoch and members as the tables say. Read on a connection of its own (opened on first
   * use): status requests never queue in front of a heartbeat. Concurrent calls share one read.
   */
  status(): Promise<HaStatus> {
    this.statusRead ??= this.readStatus().finally(() => { this.statusRead = null; });
    return this.statusRead;
  }

  private async readStatus(): Promise<HaStatus> {
    try {
      if (!this.statusClient) {
        const c = this.newClient('nodewright-status');
        const drop = () => { if (this.statusClient === c) this.statusClient = null; };
        c.on('error', drop).on('end', drop);
        await c.connect();
        if (this.stopped) {
          c.end().catch(() => {});
          throw new Error('the election is stopped');
        }
        this.statusClient = c;
      }
      const c = this.statusClient;
      const leader = await c.query<LeaderRow>('SELECT epoch, term, leader, leader_url, since FROM ha_leader WHERE id = 1');
      const members = await c.query<MemberRow>(
        `SELECT name, url, last_heartbeat, EXTRACT(EPOCH FROM (clock_timestamp() - last_heartbeat::timestamptz)) * 1000 AS age_ms FROM ha_members ORDER BY name`);
      return haStatusOf(leader.rows[0] ?? { epoch: 0, term: '', leader: null, leader_url: null, since: null }, members.rows, releaseMs(this.timing) + this.timing.pollMs);
    } catch (e) {
      const c = this.statusClient;
      this.statusClient = null;
      c?.end().catch(() => {});
      throw new NwError('NW_STATE', `controller ${this.opts.member.name} cannot read the HA status from PostgreSQL (${(e as Error).message}); check the database is reachable, or ask another controller`);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let s: Session | null = null;
      try {
        s = await this.connect();
        if (this.stopped) break;
        await this.follow(s);
        if (this.stopped) break;
        await this.lead(s);
      } catch (e) {
        if (!this.stopped) this.emit('sessionError', e instanceof Error ? e : new Error(String(e)));
      }
      const wasLeader = this.led;
      if (this.term) this.depose(s?.broken ? 'session-lost' : 'heartbeat-failed');
      const failed = s ?? this.session;
      if (failed && !this.stopped) {
        destroy(failed);
        if (this.session === failed) this.session = null;
      }
      if (this.stopped) break;
      // A member that just lost its term gives the followers the first try (no flapping back).
      await this.sleep(wasLeader ? 2 * this.timing.pollMs : this.timing.pollMs);
      this.led = false;
    }
  }

  private newClient(application: string): pg.Client {
    const t = this.timing;
    const client = new pg.Client({
      connectionString: this.opts.connectionString,
      options: sessionOptions(t),
      application_name: `${application}:${this.opts.member.name}`.slice(0, 63),
      keepAlive: true,
      keepAliveInitialDelayMillis: t.heartbeatMs,
      query_timeout: t.queryTimeoutMs,
      connectionTimeoutMillis: t.connectTimeoutMs,
    });
    // pg lets a connection string's (empty) password override the config's: set it afterwards.
    if (this.opts.password !== undefined) client.password = this.opts.password;
    return client;
  }

  private async connect(): Promise<Session> {
    const client = this.newClient('nodewright-election');
    const s: Session = { client, broken: false };
    const broke = (e?: Error) => {
      const already = s.broken;
      s.broken = true;
      if (already || this.session !== s) return;
      // A terminated or cut session releases the lock on the server: stop acting at once.
      if (this.term) this.depose('session-lost');
      if (e && !this.stopped) this.emit('sessionError', e);
      this.wake?.();
    };
    client.on('error', broke);
    client.on('end', () => broke());
    this.session = s;
    try {
      await client.connect();
    } catch (e) {
      s.broken = true;
      destroy(s);
      throw e;
    }
    await this.query(s, 'BEGIN');
    await this.query(s, `SELECT pg_advisory_xact_lock(${SCHEMA_LOCK[0]}, ${SCHEMA_LOCK[1]})`);
    for (const sql of HA_SCHEMA) await this.query(s, sql);
    await this.query(s, 'COMMIT');
    return s;
  }

  /** Heartbeat and try the lock every pollMs until it is ours; then start a term. */
  private async follow(s: Session): Promise<void> {
    const { name, url } = this.opts.member;
    for (;;) {
      const r = await this.query<{ got: boolean }>(s, FOLLOWER_TICK, [name, url, this.startedAt]);
      if (this.stopped) return;
      if (r.rows[0]?.got) break;
      await this.sleep(this.timing.pollMs);
      if (this.stopped || s.broken) throw new Error('election session closed');
    }
    const term = randomUUID();
    const sentAt = this.now();
    const r = await this.query<{ epoch: string }>(s, BEGIN_TERM, [term, name, url]);
    if (s.broken || this.stopped) throw new Error('election session closed');
    this.term = { epoch: Number(r.rows[0].epoch), term, lastGoodSentAt: sentAt };
    this.led = true;
    this.emit('elected', { epoch: this.term.epoch, term });
  }

  /** Heartbeat every heartbeatMs while the term in ha_leader is still ours; returns when it is not. */
  private async lead(s: Session): Promise<void> {
    for (;;) {
      await this.sleep(this.timing.heartbeatMs);
      if (this.stopped || !this.term) return;
      if (s.broken) throw new Error('election session closed');
      // A timer that fires past the bound (a frozen process, a blocked event loop) steps down: the
      // lock may already be someone else's.
      if (!this.lease()) return;
      const sentAt = this.now();
      const r = await this.query<{ epoch: string; term: string }>(s, LEADER_TICK, [this.opts.member.name]);
      const t = this.term as Term | null;
      if (!t) return;
      const row = r.rows[0];
      if (!row || Number(row.epoch) !== t.epoch || row.term !== t.term) {
        this.depose('term-changed');
        return;
      }
      t.lastGoodSentAt = sentAt;
    }
  }

  private async query<R extends pg.QueryResultRow>(s: Session, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    if (s.broken) throw new Error('election session closed');
    return s.client.query<R>(sql, params);
  }

  private depose(reason: DeposedReason): void {
    if (!this.term) return;
    this.term = null;
    // Closing the session is what hands the lock on: never keep a session whose lease is gone.
    const s = this.session;
    if (s && reason !== 'stopped') destroy(s);
    process.nextTick(() => this.emit('deposed', reason));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** Drops the connection without waiting for the server (it may be unreachable). */
function destroy(s: Session): void {
  s.broken = true;
  const stream = (s.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
  s.client.end().catch(() => {});
}
