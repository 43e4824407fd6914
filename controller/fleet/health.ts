// What one poll says about a node: pure, so the poller's judgement is unit-tested without agents.
// A status reaches judge() only after the agent client checked it against the protocol's schema;
// judge() still never trusts it: a reported generation the controller never signed for the node
// makes it degraded and is not kept, and every reason is bounded agent text (sanitize.ts).
import type { AgentStatus } from '../../protocol/status.js';
import type { NodeHealth, NodeObservation } from '../store/store.js';
import { agentText } from './sanitize.js';

export type PollOutcome =
  | { kind: 'status'; status: AgentStatus }
  /** A 200 whose body is not a status of this protocol (`status invalid: /steps: Expected array`). */
  | { kind: 'invalid'; message: string }
  | { kind: 'http'; status: number; code?: string; message?: string }
  | { kind: 'error'; message: string };

/** `signed`: the highest generation the controller signed for the node (Store.signedGeneration). */
export function judge(o: PollOutcome, at: string, previous?: NodeObservation, signed?: number): NodeObservation {
  const keep = { generation: previous?.generation ?? null, converged: false, ready: false };
  const obs = (health: NodeHealth, reason: string | null, rest: Omit<NodeObservation, 'health' | 'reason' | 'at'>): NodeObservation =>
    ({ health, reason: reason === null ? null : agentText(reason), ...rest, at });
  try {
    if (o.kind === 'error') return obs('unreachable', o.message, keep);
    if (o.kind === 'invalid') return obs('degraded', o.message, keep);
    if (o.kind === 'http') {
      const health: NodeHealth = o.status === 503 ? 'degraded' : 'unreachable';
      return obs(health, `${o.status}${o.code ? ` ${o.code}` : ''}${o.message ? `: ${o.message}` : ''}`, keep);
    }
    const s = o.status;
    const generation = s.desired?.generation ?? null;
    if (generation !== null && (!Number.isSafeInteger(generation) || generation < 1 || (signed !== undefined && generation > signed))) {
      return obs('degraded', `reports generation ${generation} the controller never signed (highest signed ${signed ?? 'unknown'})`, keep);
    }
    const base = { generation, converged: s.converged === true, ready: s.ready === true };
    if (!s.desired) return obs('healthy', 'no desired state yet', base);
    // The agent's converged/ready describe its LAST reconcile; until one has run for the current
    // generation they speak of the previous one: not a gate pass.
    if (s.lastReconcile?.generation !== generation) return obs('degraded', `generation ${generation} accepted, reconcile pending`, { generation, converged: false, ready: false });
    if (s.ready === true && s.converged === true) return obs('healthy', null, base);
    return obs('degraded', whyNotReady(s), base);
  } catch (e) {
    // only a status that bypassed the schema check gets here: a broken answer, never a crash
    return obs('degraded', `status invalid: ${(e as Error).message}`, keep);
  }
}

function whyNotReady(s: AgentStatus): string {
  const bad = s.steps.filter((st) => st.state === 'failed' || st.state === 'rolled_back');
  if (bad.length) return bad.map((st) => `${st.name} ${st.state}${st.error ? ` (${st.error.code})` : ''}`).join(', ');
  const probes = s.probes.filter((p) => p.status === 'fail');
  if (probes.length) return `probe ${probes.map((p) => p.name).join(', ')} failing`;
  if (s.inflight) return `reconciling (${s.inflight.step} ${s.inflight.phase})`;
  if (s.lastError) return `${s.lastError.code}: ${s.lastError.message}`;
  return s.converged ? 'not ready' : 'not converged';
}

/** Next delay for a node: the interval with ±10 % jitter; doubled per consecutive failure, capped. */
export function nextDelayMs(o: { intervalMs: number; failures: number; maxBackoffMs: number; random?: number }): number {
  const base = o.failures > 0 ? Math.min(o.intervalMs * 2 ** Math.min(o.failures - 1, 20), o.maxBackoffMs) : o.intervalMs;
  const r = o.random ?? Math.random();
  return Math.round(base * (0.9 + 0.2 * r));
}
