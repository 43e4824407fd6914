// A token bucket per key (the source address of `POST /v1/join`): `burst` requests at once, then
// one per `refillMs`. Full buckets are forgotten, so the map holds only recent callers, and
// it never holds more than `maxKeys` (the oldest are dropped first).
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly o: { burst: number; refillMs: number; maxKeys?: number }) {}

  /** Takes one token for `key`; false (and nothing taken) when its bucket is empty. */
  take(key: string, now: number): boolean {
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.o.burst, b.tokens + (now - b.at) / this.o.refillMs) : this.o.burst;
    if (tokens < 1) {
      b!.tokens = tokens;
      b!.at = now;
      return false;
    }
    this.buckets.delete(key); // re-inserted last: the map's order is the callers' recency
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    this.sweep(now);
    return true;
  }

  /** Milliseconds until `key` may try again. */
  retryAfterMs(key: string): number {
    const b = this.buckets.get(key);
    return b ? Math.ceil((1 - b.tokens) * this.o.refillMs) : 0;
  }

  private sweep(now: number): void {
    const max = this.o.maxKeys ?? 100_000;
    for (const [k, b] of this.buckets) {
      const full = b.tokens + (now - b.at) / this.o.refillMs >= this.o.burst;
      if (!full && this.buckets.size <= max) break;
      this.buckets.delete(k);
    }
  }
}
