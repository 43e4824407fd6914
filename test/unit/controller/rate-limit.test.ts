// The /v1/join token bucket: a burst, then one per refill interval, per key; bounded memory.
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../controller/api/rate-limit.js';

describe('TokenBuckets', () => {
  it('allows a burst, then one per refill interval; keys are independent', () => {
    const b = new TokenBuckets({ burst: 3, refillMs: 1000 });
    expect([b.take('a', 0), b.take('a', 0), b.take('a', 0), b.take('a', 0)]).toEqual([true, true, true, false]);
    expect(b.retryAfterMs('a')).toBe(1000);
    expect(b.take('b', 0)).toBe(true);
    expect(b.take('a', 500)).toBe(false); // refused attempts take nothing, but time still counts
    expect(b.take('a', 1000)).toBe(true);
    expect(b.take('a', 1000)).toBe(false);
  });

  it('holds at most maxKeys callers, forgetting full buckets and then the oldest', () => {
    const b = new TokenBuckets({ burst: 2, refillMs: 1000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) b.take(`10.0.${i >> 8}.${i & 255}`, i);
    expect((b as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(101);
    // a recent caller is still limited
    b.take('10.0.3.231', 1000);
    expect(b.take('10.0.3.231', 1000)).toBe(false);
  });
});
