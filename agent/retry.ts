// A reconcile that failed for a reason that passes on its own (the controller restarting while the
// kubelet artifact downloads, a Ceph monitor timing out) is run again soon, with backoff, instead of
// waiting for the next scheduled run (every 5 minutes by default). Other failures (a broken kubelet
// rolled back, a bad keyring) wait for a new generation or the schedule: retrying them changes nothing.
import type { ReconcileResult } from './reconcile.js';
import { isDriftOnly } from './trigger.js';

const TRANSIENT = new Set(['NW_DOWNLOAD', 'NW_CEPH_TIMEOUT', 'NW_EXEC_TIMEOUT']);
export const RETRY_FIRST_MS = 5_000;
export const RETRY_MAX_MS = 300_000;

/** Delay before re-running after `r` (the `failures`-th transient failure in a row, from 1), or null: no retry. */
export function retryDelayMs(r: Pick<ReconcileResult, 'ok' | 'error'>, failures: number): number | null {
  if (r.ok || !r.error || !TRANSIENT.has(r.error.code)) return null;
  return Math.min(RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
}

/**
 * A drift check (the watch list changing, the agent's own writes) that failed for a passing reason
 * while a retry waits leaves that retry and its backoff alone: it is not one more failure in a row.
 * (A new kubelet binary's first failure also changes the watch list, and that run doubled the first
 * retry to 10 s.)
 */
export function keepsPendingRetry(r: Pick<ReconcileResult, 'ok' | 'error' | 'trigger'>, retryPending: boolean): boolean {
  return retryPending && isDriftOnly(r.trigger) && retryDelayMs(r, 1) !== null;
}
