// Start-up timing. The recovery pass may restart the kubelet and wait for its health gate, then
// roll back and do both again; with the configured timeouts that can outlast systemd's
// TimeoutStartSec many times over. So READY=1 is sent before the recovery pass (start-up to READY
// is config, state, listen: bounded and local), and the API answers NW_RECOVERING until it is done.

/** systemctl timeouts the recovery pass uses besides the configured ones (systemd/systemctl.ts). */
export const DAEMON_RELOAD_MS = 90_000;
export const SHOW_MS = 15_000;
/** The health gate may overrun its deadline by one is-active call (10 s) and one healthz probe (2 s). */
export const GATE_OVERRUN_MS = 12_000;

export interface KubeletTimeouts {
  restartTimeoutMs: number;
  healthTimeoutMs: number;
}

/** One attempt: daemon-reload, restart, read back, health gate. */
export const attemptMs = (k: KubeletTimeouts): number => DAEMON_RELOAD_MS + k.restartTimeoutMs + SHOW_MS + k.healthTimeoutMs + GATE_OVERRUN_MS;

/** Worst case of the recovery pass: the interrupted change's attempt, then the rollback's. */
export const worstCaseRecoveryMs = (k: KubeletTimeouts): number => 2 * attemptMs(k);

/** Worst case of one reconcile that changes the kubelet (same shape: apply, gate, roll back, gate). */
export const worstCaseReconcileMs = worstCaseRecoveryMs;

/**
 * Whether the recovery pass would fit TimeoutStartSec with a 50 % margin if READY=1 waited for it.
 * The daemon does not wait either way (see above); this is what the start-up log reports.
 */
export function recoveryBudget(k: KubeletTimeouts, timeoutStartSec: number): { worstCaseRecoveryMs: number; fitsTimeoutStart: boolean } {
  const worst = worstCaseRecoveryMs(k);
  return { worstCaseRecoveryMs: worst, fitsTimeoutStart: worst * 1.5 <= timeoutStartSec * 1000 };
}

/** TimeoutStartSec of the shipped unit (systemd/units/nodewright-agent.service). */
export const UNIT_TIMEOUT_START_SEC = 180;
