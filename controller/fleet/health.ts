// What one poll says about a node: pure, so the poller's judgement is unit-tested without agents.
import type { AgentStatus } from '../../protocol/status.js';
import type { NodeHealth, NodeObservation } from '../store/store.js';

export type PollOutcome =
  | { kind: 'status'; status: AgentStatus }
  | { kind: 'http'; status: number; code?: string; message?: string }
  | { kind: 'error'; message: string };

export function judge(o: PollOutcome, at: string, previous?: NodeObservation): NodeObservation {
  const keep = { generation: previous?.generation ?? null, converged: false, ready: false };
  if (o.kind === 'error') return { health: 'unreachable', reason: o.message, ...keep, at };
  if (o.kind === 'http') {
    const health: NodeHealth = o.status === 503 ? 'degraded' : 'unreachable';
    return { health, reason: `${o.status}${o.code ? ` ${o.code}` : ''}${o.message ? `: ${o.message}` : ''}`, ...keep, at };
  }
  const s = o.status;
  const generation = s.desired?.generation ?? null;
  const base = { generation, converged: s.converged, ready: s.ready, at };
  if (!s.desired) return { health: 'healthy', reason: 'no desired state yet', ...base };
  // The agent's converged/ready describe its LAST reconcile; until one has run for the current
  // generation they speak of the previous one: not a gate pass.
  if (s.lastReconcile?.generation !== generation) return { health: 'degraded', reason: `generation ${generation} accepted, reconcile pending`, generation, converged: false, ready: false, at };
  if (s.ready && s.converged) return { health: 'healthy', reason: null, ...base };
  return { health: 'degraded', reason: whyNotReady(s), ...base };
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
