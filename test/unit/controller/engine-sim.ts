// A simulated fleet for engine tests: agents that accept pushes and report observations the way
// the poller would store them. Pure data, no timers.
import type { NodeObservation } from '../../../controller/store/store.js';
import { isInFlight, pushed, step, type Action, type RolloutState, type Transition } from '../../../controller/rollout/engine.js';
import type { GateResult } from '../../../controller/rollout/gates.js';

export type Behaviour = 'good' | 'bad' | 'flappy' | 'down';

export interface SimAgent {
  behaviour: Behaviour;
  generation: number;
  /** 'target' or 'previous': what the held generation carries. */
  content: 'base' | 'target' | 'previous';
  acceptedAt: number;
  accepted: number[];
}

export const T0 = Date.parse('2026-12-01T10:00:00.000Z');
export const iso = (t: number): string => new Date(t).toISOString();

export function simFleet(behaviours: Record<string, Behaviour>, base = 1): Record<string, SimAgent> {
  return Object.fromEntries(
    Object.entries(behaviours).map(([name, behaviour]) => [name, { behaviour, generation: base, content: 'base', acceptedAt: T0 - 3_600_000, accepted: [] }]),
  );
}

/** What the poller would report for each agent at time t. */
export function observe(agents: Record<string, SimAgent>, t: number, outside: Record<string, NodeObservation['health']> = {}): Record<string, NodeObservation> {
  const obs: Record<string, NodeObservation> = {};
  for (const [name, a] of Object.entries(agents)) {
    const at = iso(t);
    if (a.behaviour === 'down') {
      obs[name] = { health: 'unreachable', reason: 'connect ECONNREFUSED', generation: null, converged: false, ready: false, at };
      continue;
    }
    const settled = t - a.acceptedAt >= 2000;
    let ok = settled;
    if (a.content === 'target' && a.behaviour === 'bad') ok = false;
    if (a.content === 'target' && a.behaviour === 'flappy') ok = settled && Math.floor((t - a.acceptedAt) / 7000) % 2 === 0;
    obs[name] = ok
      ? { health: 'healthy', reason: null, generation: a.generation, converged: true, ready: true, at }
      : { health: 'degraded', reason: settled ? 'probe rbd failed' : 'reconciling', generation: a.generation, converged: settled, ready: false, at };
  }
  for (const [name, health] of Object.entries(outside)) {
    obs[name] = { health, reason: health === 'healthy' ? null : 'outside', generation: 1, converged: true, ready: health === 'healthy', at: iso(t) };
  }
  return obs;
}

/** Deliver the pushes of a transition to the agents and feed the outcomes back to the engine. */
export function deliver(state: RolloutState, actions: Action[], agents: Record<string, SimAgent>, t: number): Transition[] {
  const out: Transition[] = [];
  let s = state;
  for (const a of actions) {
    if (a.kind !== 'push') continue;
    const agent = agents[a.node];
    let tr: Transition;
    if (agent.behaviour === 'down') {
      tr = pushed(s, a.node, a.generation, { ok: false, definite: false, reason: 'timeout' }, iso(t));
    } else {
      if (a.generation > agent.generation) {
        agent.generation = a.generation;
        agent.content = a.desired;
        agent.acceptedAt = t;
        agent.accepted.push(a.generation);
      }
      tr = pushed(s, a.node, a.generation, { ok: true }, iso(t));
    }
    out.push(tr);
    s = tr.next;
  }
  return out;
}

/** Step the engine every `tick` ms until it stops moving (or `limit` ticks). */
export function run(state: RolloutState, agents: Record<string, SimAgent>, opts: { from?: number; tick?: number; limit?: number; outside?: Record<string, NodeObservation['health']>; gates?: (t: number) => GateResult[]; until?: (s: RolloutState, t: number) => boolean } = {}) {
  let t = opts.from ?? T0;
  let s = state;
  const pushes: Array<{ node: string; generation: number; desired: string }> = [];
  for (let i = 0; i < (opts.limit ?? 2000); i++) {
    const tr = step(s, observe(agents, t, opts.outside), iso(t), undefined, opts.gates?.(t));
    s = tr.next;
    for (const a of tr.actions) if (a.kind === 'push') pushes.push(a);
    for (const d of deliver(s, tr.actions, agents, t)) s = d.next;
    if (['completed', 'aborted', 'paused', 'halted'].includes(s.state) && !s.nodes.some(isInFlight)) break;
    if (opts.until?.(s, t)) break;
    t += opts.tick ?? 1000;
  }
  return { state: s, t, pushes };
}

/** Scenarios: NW_PROPERTY_RUNS, else 2,000 on CI (each simulates a whole rollout: ~20 ms), else a few hundred. */
export const numRuns = (): number => {
  const env = Number(process.env.NW_PROPERTY_RUNS);
  if (Number.isFinite(env) && env > 0) return env;
  return process.env.CI === 'true' ? 2_000 : 300;
};
