// The retention pass on a timer: at start, then every `intervalMs`; a pass that hit a bound
// (store.prune's `more`) is followed by the next one after a short pause, so a large backlog
// drains in bounded transactions without holding the event loop. With blobs in the database, each
// pass also removes the chunks of uploads a controller died in the middle of (older than an hour).
import type { Logger } from 'pino';
import type { RetentionPolicy } from './store/retention.js';
import type { Store } from './store/store.js';

const BACKLOG_PAUSE_MS = 1000;
/** An upload older than this with no blob named by it was abandoned. */
const ABANDONED_UPLOAD_MS = 3_600_000;

export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: { store: Pick<Store, 'prune'>; blobs?: { sweep(beforeMs: number): Promise<number> }; policy: RetentionPolicy; intervalMs: number; log: Logger; now: () => string }) {}

  start(): void {
    this.stopped = false;
    void this.pass();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    let more = false;
    try {
      const r = await this.o.store.prune(this.o.policy, this.o.now());
      more = r.more;
      const { more: _m, ...counts } = r;
      const removed = this.o.blobs ? { ...counts, uploadChunks: await this.o.blobs.sweep(Date.parse(this.o.now()) - ABANDONED_UPLOAD_MS) } : counts;
      if (Object.values(removed).some((n) => n > 0)) this.o.log.info({ removed }, 'retention: pruned the store');
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'retention: pruning failed; retried at the next pass');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pass(), more ? BACKLOG_PAUSE_MS : this.o.intervalMs);
    this.timer.unref();
  }
}
