// The end of every kubelet change (binary or image, from the artifact step or the recovery
// pass): the health gate, then promote the new artifact or reject it — with why, when and for
// which generation — and whether an earlier rejection still holds the desired artifact back.
import { waitHealthy, type HealthResult } from './health.js';
import type { ArtifactRef, PersistedState, Rejection } from './state.js';
import type { Hold, StepContext } from './steps/types.js';

/** What a rollback did: a one-line note, and whether the worker is back on something healthy. */
export interface Restore {
  note: string;
  restored: boolean;
}

/** The kubelet health gate; never throws (a failing restart or probe is an unhealthy result). */
export async function gate(ctx: StepContext, unit: string): Promise<HealthResult> {
  const k = ctx.config.kubelet;
  try {
    return await waitHealthy(ctx.host.exec, ctx.host.clock, { unit, url: k.healthUrl, timeoutMs: k.healthTimeoutMs, minHealthyMs: k.minHealthyMs });
  } catch (e) {
    return { ok: false, reason: (e as Error).message, waitedMs: 0 };
  }
}

/** The new artifact passed the gate: it is current and the last good one; nothing is in flight. */
export async function promote(ctx: StepContext, next: ArtifactRef): Promise<void> {
  await ctx.state.update((s) => {
    s.kubelet.current = next;
    s.kubelet.lastGood = next;
    delete s.kubelet.rejected[next.sha256];
    s.inflight = null;
  });
}

/**
 * The new artifact failed: remember why, when and for which generation, so the periodic reconcile
 * does not install it again. `installed` is what the kubelet runs now; `rolledBack` whether that
 * is a healthy previous one; `attempted` whether a previous one was put back at all.
 */
export async function reject(
  ctx: StepContext,
  o: { next: ArtifactRef; reason: string; generation: number | undefined; installed: ArtifactRef | null; rolledBack: boolean; attempted: boolean },
): Promise<void> {
  await ctx.state.update((s) => {
    s.kubelet.rejected[o.next.sha256] = {
      version: o.next.version,
      reason: o.reason,
      at: new Date(ctx.host.clock.now()).toISOString(),
      ...(o.generation !== undefined ? { generation: o.generation } : {}),
      rolledBack: o.rolledBack,
    };
    if (o.installed) s.kubelet.current = o.installed;
    if (o.attempted) s.rollbacks += 1;
    s.inflight = null;
  });
}

/** The rejection that still holds `key` back at `generation`: a newer generation retries it. */
export function holding(kubelet: PersistedState['kubelet'], key: string, generation: number): Rejection | null {
  const r = kubelet.rejected[key];
  if (!r) return null;
  return r.generation === undefined || r.generation >= generation ? r : null;
}

/** What the step reports while a rejection holds: rolled back, or failed when nothing healthy could be put back. */
export function heldReport(what: string, r: Rejection): Hold {
  if (r.rolledBack === false) {
    return {
      hold: true,
      state: 'failed',
      error: 'NW_HEALTH',
      message: `${what} was rejected at ${r.at} and nothing healthy could be put back: ${r.reason}; fix the worker, then push a new generation or POST /v1/reconcile?retry=artifact`,
    };
  }
  return { hold: true, state: 'rolled_back', message: `${what} was rolled back: ${r.reason}` };
}

/** The one-line note after putting the previous kubelet back and gating it. */
export const restoredNote = (what: string, h: HealthResult): Restore => ({
  note: `${what}, which is ${h.ok ? 'healthy again' : `still unhealthy (${h.reason})`}`,
  restored: h.ok,
});
