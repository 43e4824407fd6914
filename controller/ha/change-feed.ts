// LISTEN nodewright_changes on a dedicated connection: a follower learns that the leader changed
// shared state (nodes, rollouts, events, artifacts, tokens) and re-reads it. Notifications sent while
// the connection was down are lost, so every (re)connect is reported as a change too (read it all
// again), and a ping with a client deadline finds a connection that silently stopped
// (node-postgres #967).
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { CHANGES_CHANNEL, withPassword } from '../store/postgres.js';

const PING_MS = 15_000;
const QUERY_TIMEOUT_MS = 3_000;
const RETRY_MS = 1_000;

export class ChangeFeed extends EventEmitter<{ change: [kind: string] }> {
  private client: pg.Client | null = null;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: { connectionString: string; password?: string; log: Logger }) {
    super();
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new pg.Client({ connectionString: withPassword(this.o.connectionString, this.o.password), query_timeout: QUERY_TIMEOUT_MS, keepAlive: true, application_name: 'nodewright-feed' });
    const lost = (why: string) => {
      if (this.client !== c) return;
      this.client = null;
      c.end().catch(() => undefined);
      if (this.stopped) return;
      this.o.log.warn({ err: why }, 'change feed lost; reconnecting');
      this.later(() => this.connect(), RETRY_MS);
    };
    c.on('error', (e) => lost(e.message));
    c.on('end', () => lost('connection ended'));
    c.on('notification', (n) => this.emit('change', n.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (e) {
      c.end().catch(() => undefined);
      if (!this.stopped) this.later(() => this.connect(), RETRY_MS);
      return;
    }
    if (this.stopped) return void c.end().catch(() => undefined);
    this.client = c;
    this.emit('change', 'reconnected');
    this.later(() => this.ping(c), PING_MS);
  }

  private async ping(c: pg.Client): Promise<void> {
    if (this.client !== c) return;
    try {
      await c.query('SELECT 1');
      this.later(() => this.ping(c), PING_MS);
    } catch (e) {
      c.emit('error', e as Error);
    }
  }

  private later(fn: () => Promise<void>, ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void fn(), ms);
    this.timer.unref();
  }
}
