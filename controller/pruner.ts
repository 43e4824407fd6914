// The retention pass on a timer: at start, then every `intervalMs`; a pass that hit a bound
// (store.prune's `more`) is followed by the next one after a short pause, so a large backlog
// drains in bounded transactions without holding the event loop.
import type { Logger } from 'pino';
import type { RetentionPolicy } from './store/retention.js';
import type { Store } from './store/store.js';

const BACKLOG_PAUSE_MS = 1000;

export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: { store: Pick<Store, 'prune'>; policy: RetentionPolicy; intervalMs: number; log: Logger; now: () => string }) {}

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
      const { more: _m, ...removed } = r;
      if (Object.values(removed).some((n) => n > 0)) this.o.log.info({ removed }, 'retention: pruned the store');
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'retention: pruning failed; retried at the next pass');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pass(), more ? BACKLOG_PAUSE_MS : this.o.intervalMs);
    this.timer.unref();
  }
}
