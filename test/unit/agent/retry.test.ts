import { describe, expect, it } from 'vitest';
import { RETRY_FIRST_MS, RETRY_MAX_MS, retryDelayMs } from '../../../agent/retry.js';

const failed = (code: string) => ({ ok: false, error: { code, message: 'x', step: 'artifact' as const } });

describe('retrying a failed reconcile', () => {
  it('retries a download failure with a doubling backoff, capped', () => {
    expect(retryDelayMs(failed('NW_DOWNLOAD'), 1)).toBe(RETRY_FIRST_MS);
    expect(retryDelayMs(failed('NW_DOWNLOAD'), 2)).toBe(2 * RETRY_FIRST_MS);
    expect(retryDelayMs(failed('NW_CEPH_TIMEOUT'), 30)).toBe(RETRY_MAX_MS);
  });

  it('never retries a success or a failure a retry cannot fix', () => {
    expect(retryDelayMs({ ok: true, error: null }, 1)).toBeNull();
    expect(retryDelayMs(failed('NW_HEALTH'), 1)).toBeNull();
    expect(retryDelayMs(failed('NW_CHECKSUM'), 1)).toBeNull();
    expect(retryDelayMs({ ok: false, error: null }, 1)).toBeNull();
  });
});
