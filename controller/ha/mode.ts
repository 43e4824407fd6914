// Where a controller keeps its state and whether it may act: SQLite (one controller, it always leads
// with the epoch it took at open) or PostgreSQL (HA: the election says who leads; every write of the
// store is fenced by the leader's lease). The daemon asks `leading()` and listens for `lead`/`deposed`.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { NwError } from '../../host/errors.js';
import type { ControllerStatusJson } from '../commands/controller-status.js';
import { controllerStatusJson } from '../commands/controller-status.js';
import type { ControllerConfig } from '../config.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import type { BlobStore } from '../artifacts/blobs.js';

export interface StoreMode {
  store: Store;
  /** Artifact blobs every member reaches (PostgreSQL; `sweep` drops abandoned uploads), or undefined for the files in stateDir. */
  blobs?: BlobStore & { sweep(beforeMs: number): Promise<number> };
  /** Resolves when this controller leads (at once with SQLite). */
  elected(): Promise<void>;
  leading(): boolean;
  /** The leader's URL for a write sent here; null when none leads right now. */
  leaderUrl(): Promise<string | null>;
  status(): Promise<ControllerStatusJson>;
  /** Called once when this controller lost its term (it must stop acting). */
  onDeposed(fn: (reason: string) => void): void;
  /** Called (debounced by the caller) when another member changed shared state (followers). */
  onChange(fn: () => void): void;
  close(): Promise<void>;
}

export async function openStoreMode(config: ControllerConfig, member: { name: string; url: string }, log: Logger): Promise<StoreMode> {
  if (config.store.kind === 'sqlite') return sqliteMode(config, member);
  const { url, passwordFile } = config.store;
  const password = passwordFile ? await readPassword(passwordFile, config.file) : undefined;
  // loaded only in the HA mode: `pg` stays out of a single controller's memory
  const [{ Election }, { openPostgresStore }, { PgBlobStore }, { ChangeFeed }] = await Promise.all([
    import('./election.js'), import('../store/postgres.js'), import('../artifacts/pg-blobs.js'), import('./change-feed.js'),
  ]);
  const election = new Election({ connectionString: url, password, member });
  let deposed: ((reason: string) => void) | null = null;
  // A write's fence locks the ha_leader row until its transaction ends, and the next leader's term
  // update waits for that row: a leader frozen or cut off inside a write must lose that transaction
  // no later than its election session (not the pool's default 15 s), and its writes queued behind
  // it on that row must give up within its bound, or each would hold the row 5 s more in turn.
  const store = await openPostgresStore({
    connectionString: url, password, idleInTransactionMs: election.timing.idleSessionTimeoutMs, lockTimeoutMs: election.timing.boundMs,
    lease: () => election.lease(), onFenced: () => deposed?.('a write found another controller\'s term'),
  });
  const feed = new ChangeFeed({ connectionString: url, password, log });
  election.on('deposed', (reason) => deposed?.(reason));
  election.on('sessionError', (e) => log.warn({ err: e.message }, 'election session failed; reconnecting'));
  const elected = new Promise<void>((resolve) => election.once('elected', () => resolve()));
  election.on('elected', (lease) => log.info({ epoch: lease.epoch, member: member.name }, 'elected: this controller leads the fleet'));
  election.start();
  feed.start();
  return {
    store,
    blobs: new PgBlobStore(store.pool),
    elected: () => elected,
    leading: () => election.lease() !== null,
    async leaderUrl() {
      const s = await election.status();
      return s.leader && s.leader !== member.name ? s.leaderUrl : null;
    },
    status: async () => controllerStatusJson(await election.status()),
    onDeposed(fn) {
      let once = false;
      deposed = (reason) => {
        if (once) return;
        once = true;
        fn(reason);
      };
    },
    onChange: (fn) => feed.on('change', fn),
    async close() {
      await feed.stop();
      await election.stop();
      await store.close();
    },
  };
}

function sqliteMode(config: ControllerConfig, member: { name: string; url: string }): StoreMode {
  const store = openSqliteStore({ stateDir: config.stateDir });
  return {
    store,
    elected: () => Promise.resolve(),
    leading: () => true,
    leaderUrl: async () => null,
    status: async () => ({ leader: member.name, epoch: store.epoch, members: [{ name: member.name, url: member.url, leader: true, lastHeartbeat: new Date().toISOString() }] }),
    onDeposed: () => undefined,
    onChange: () => undefined,
    close: () => store.close(),
  };
}

async function readPassword(file: string, configFile: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read storePasswordFile ${file} (${(e as NodeJS.ErrnoException).code}): fix the path in ${configFile}, or give PGPASSWORD in the service environment`);
  }
}
