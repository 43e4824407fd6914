import { describe, expect, it } from 'vitest';
import { keepsPendingRetry, RETRY_FIRST_MS, RETRY_MAX_MS, retryDelayMs } from '../../../agent/retry.js';

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

  it('a drift check that fails the same passing way while a retry waits leaves that retry and its backoff alone', () => {
    const run = (code: string | null, trigger: string) => ({ ok: code === null, error: code ? { code, message: 'x', step: 'artifact' as const } : null, trigger });
    expect(keepsPendingRetry(run('NW_DOWNLOAD', 'watch'), true)).toBe(true);
    expect(keepsPendingRetry(run('NW_DOWNLOAD', 'drift+watch'), true)).toBe(true);
    expect(keepsPendingRetry(run('NW_DOWNLOAD', 'watch'), false)).toBe(false);
    expect(keepsPendingRetry(run('NW_DOWNLOAD', 'desired'), true)).toBe(false);
    expect(keepsPendingRetry(run('NW_DOWNLOAD', 'retry+watch'), true)).toBe(false);
    expect(keepsPendingRetry(run('NW_CHECKSUM', 'watch'), true)).toBe(false);
    expect(keepsPendingRetry(run(null, 'drift'), true)).toBe(false);
  });
});
