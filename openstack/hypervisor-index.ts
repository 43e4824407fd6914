// Index of hypervisors by host_ip. host_ip is only in /os-hypervisors/detail and Nova cannot
// filter on it, so we page through detail once and keep the result for a TTL.
// A warm hit costs no API call; a miss or a stale index refreshes once.
import type { HypervisorView } from './types.js';

export interface IndexSnapshot {
  fetchedAt: number;
  hypervisors: HypervisorView[];
}

export interface HypervisorIndexOptions {
  load: () => Promise<HypervisorView[]>;
  ttlMs: number;
  now?: () => number;
  initial?: IndexSnapshot;
  /** Called after every refresh (e.g. to persist the snapshot). */
  onRefresh?: (s: IndexSnapshot) => void;
}

export const DEFAULT_INDEX_TTL_MS = 5 * 60_000;

export class HypervisorIndex {
  private snap?: IndexSnapshot;
  private inflight?: Promise<IndexSnapshot>;
  refreshes = 0;
  private readonly now: () => number;

  constructor(private readonly opts: HypervisorIndexOptions) {
    this.now = opts.now ?? Date.now;
    this.snap = opts.initial;
  }

  snapshot(): IndexSnapshot | undefined {
    return this.snap;
  }

  isWarm(): boolean {
    return !!this.snap && this.now() - this.snap.fetchedAt < this.opts.ttlMs;
  }

  /** All hypervisors, from the index when warm. */
  async all(): Promise<HypervisorView[]> {
    return (this.isWarm() ? this.snap! : await this.refresh()).hypervisors;
  }

  /** Hypervisors with this host_ip; refreshes once when the index is stale or has no match. */
  async byHostIp(ip: string): Promise<HypervisorView[]> {
    if (this.isWarm()) {
      const hit = matchIp(this.snap!, ip);
      if (hit.length) return hit;
    }
    return matchIp(await this.refresh(), ip);
  }

  /** Concurrent callers share one refresh. */
  async refresh(): Promise<IndexSnapshot> {
    this.inflight ??= (async () => {
      try {
        const hypervisors = await this.opts.load();
        this.refreshes++;
        this.snap = { fetchedAt: this.now(), hypervisors };
        this.opts.onRefresh?.(this.snap);
        return this.snap;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

const matchIp = (s: IndexSnapshot, ip: string) => s.hypervisors.filter((h) => h.host_ip === ip);
