// Failure-domain waves, as properties over random fleets: the plan never puts two nodes of one
// domain in a wave and plans every node exactly once; driving the pure engine with random health,
// random live migrations and random commands, no domain ever has more than
// maxUnavailablePerDomain nodes in flight, no node starts while its domain is at the limit, and two
// nodes of one wave and one domain are never in flight together.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  command, isInFlight, newRollout, nextToPush, ownDomain, step,
  type Command, type RolloutNode, type RolloutState, type RolloutTarget, type Transition,
} from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import type { NodeObservation } from '../../../controller/store/store.js';
import { NwError } from '../../../host/errors.js';
import { deliver, iso, numRuns, observe, simFleet, T0, type Behaviour } from './engine-sim.js';

const TIMEOUT = 300_000;

const TERMINAL = ['healthy', 'failed', 'rolled_back', 'skipped'];

const fleetArb = fc.record({
  nodes: fc.array(
    fc.record({
      behaviour: fc.constantFrom<Behaviour>('good', 'good', 'good', 'good', 'bad', 'flappy', 'down'),
      // a few domains so that they collide often; undefined: unmapped (its own domain)
      domain: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined, freq: 6 }),
    }),
    { minLength: 1, maxLength: 16 },
  ),
  steps: fc.constantFrom('1', '2', '1,2', '1,5,20%', '3', '50%', '100%'),
  maxUnavailable: fc.constantFrom('1', '2', '3', '50%', '100%'),
  maxUnavailablePerDomain: fc.integer({ min: 1, max: 3 }),
  onFailure: fc.constantFrom('pause', 'halt', 'skip'),
  failureBudget: fc.constantFrom('0', '2', '50%'),
  events: fc.array(
    fc.record({
      dt: fc.integer({ min: 500, max: 12_000 }),
      // a node observed unhealthy for this tick (health outside the rollout's control)
      blip: fc.option(fc.nat(), { nil: undefined, freq: 3 }),
      // a node moves to another domain (live migration)
      move: fc.option(fc.record({ node: fc.nat(), to: fc.integer({ min: 0, max: 5 }) }), { nil: undefined, freq: 4 }),
      cmd: fc.option(fc.constantFrom<Command['kind']>('pause', 'resume', 'resume', 'rollback'), { nil: undefined, freq: 25 }),
    }),
    { minLength: 30, maxLength: 120 },
  ),
});
type Fleet = typeof fleetArb extends fc.Arbitrary<infer T> ? T : never;

/** The engine's view of "unavailable" for a domain: in flight, observed not healthy, or not observed and not finished. */
function unavailableIn(s: RolloutState, domain: string, obs: Record<string, NodeObservation>): string[] {
  return s.nodes
    .filter((m) => m.failureDomain === domain)
    .filter((m) => isInFlight(m) || (obs[m.name] ? obs[m.name].health !== 'healthy' : !TERMINAL.includes(m.phase)))
    .map((m) => m.name);
}

function checkPlan(s: RolloutState, targets: RolloutTarget[]): void {
  // every node planned exactly once, in a wave that exists
  expect(s.nodes.map((n) => n.name).sort()).toEqual(targets.map((t) => t.name).sort());
  for (const n of s.nodes) expect(n.wave).toBeGreaterThanOrEqual(0);
  for (const n of s.nodes) expect(n.wave).toBeLessThan(s.waveCount);
  for (let w = 0; w < s.waveCount; w++) {
    const domains = s.nodes.filter((n) => n.wave === w).map((n) => n.failureDomain);
    expect(domains.length).toBeGreaterThan(0);
    expect(new Set(domains).size).toBe(domains.length);
  }
  // mapped nodes keep their domain; unmapped ones are their own; the count says how many
  for (const t of targets) expect(s.nodes.find((n) => n.name === t.name)!.failureDomain).toBe(t.failureDomain ?? ownDomain(t.name));
  expect(s.unmapped).toBe(targets.filter((t) => t.failureDomain === undefined).length);
}

function checkStep(before: RolloutState, tr: Transition, obs: Record<string, NodeObservation> | null): void {
  const next = tr.next;
  const limit = next.strategy.maxUnavailablePerDomain;
  const inFlight = next.nodes.filter(isInFlight);
  // at every step: a domain never has more than the limit in flight…
  const perDomain = new Map<string, RolloutNode[]>();
  for (const n of inFlight) perDomain.set(n.failureDomain, [...(perDomain.get(n.failureDomain) ?? []), n]);
  for (const ns of perDomain.values()) {
    expect(ns.length).toBeLessThanOrEqual(limit);
    // …and never two nodes of one wave (a migration into a busy domain waits)
    expect(new Set(ns.map((n) => n.wave)).size).toBe(ns.length);
  }
  if (!obs) return;
  // a node started by this step found its domain within the limit (itself included)
  for (const a of tr.actions) {
    if (a.kind !== 'push') continue;
    const b = before.nodes.find((n) => n.name === a.node)!;
    const started = b.phase === 'pending' || (b.phase === 'rolling_back' && b.rollbackGeneration === null);
    if (!started) continue;
    const n = next.nodes.find((x) => x.name === a.node)!;
    expect(unavailableIn(next, n.failureDomain, obs).length).toBeLessThanOrEqual(limit);
  }
  // a held node says why, as data
  for (const n of next.nodes) {
    if (!n.hold) continue;
    expect(n.phase).toBe('pending');
    expect(n.hold.domain).toBe(n.failureDomain);
    expect(n.reason).toContain(n.hold.domain);
  }
}

function simulate(f: Fleet) {
  const names = f.nodes.map((_, i) => `w${i}`);
  const agents = simFleet(Object.fromEntries(names.map((n, i) => [n, f.nodes[i].behaviour])));
  const targets: RolloutTarget[] = names.map((name, i) => ({
    name, failureDomain: f.nodes[i].domain === undefined ? undefined : `hv${f.nodes[i].domain}`,
    baseGeneration: 1, previousGeneration: 1, canRollBack: true,
  }));
  const strategy = parseStrategy({
    steps: f.steps, maxUnavailable: f.maxUnavailable, maxUnavailablePerDomain: f.maxUnavailablePerDomain,
    onFailure: f.onFailure, failureBudget: f.failureBudget, minHealthy: '5s', gateTimeout: '40s',
  });
  let s = newRollout({ id: 'r', target: 'group g', nodes: targets, strategy, now: iso(T0), failureDomainSource: 'hypervisor' });
  checkPlan(s, targets);

  // where each node runs now (the store's view, which the executor reads before each push)
  const current = new Map(targets.map((t) => [t.name, t.failureDomain]));
  let moved = 0;
  let t = T0;
  const apply = (tr: Transition, obs: Record<string, NodeObservation> | null) => {
    checkStep(s, tr, obs);
    s = tr.next;
  };
  for (const ev of f.events) {
    t += ev.dt;
    if (ev.move) {
      const name = names[ev.move.node % names.length];
      current.set(name, `hv${ev.move.to}`);
    }
    if (ev.cmd) {
      try {
        apply(command(s, { kind: ev.cmd, actor: 'prop' }, iso(t)), null);
      } catch (e) {
        expect((e as NwError).code).toBe('NW_ROLLOUT');
      }
    }
    const obs = observe(agents, t);
    if (ev.blip !== undefined) {
      const name = names[ev.blip % names.length];
      obs[name] = { ...obs[name], health: 'degraded', ready: false, reason: 'blip' };
    }
    const domains: Record<string, string> = {};
    for (const n of nextToPush(s)) {
      const d = current.get(n.name);
      if (d) domains[n.name] = d;
    }
    const tr = step(s, obs, iso(t), domains);
    for (const n of tr.next.nodes) {
      const b = s.nodes.find((x) => x.name === n.name)!;
      if (b.failureDomain !== n.failureDomain) {
        // only a node about to be pushed follows its move, to where it runs now
        expect(b.phase).toBe('pending');
        expect(n.failureDomain, JSON.stringify({ ev, b, n, cur: [...current], state: s.state })).toBe(current.get(n.name));
        moved += 1;
      }
    }
    apply(tr, obs);
    for (const d of deliver(s, tr.actions, agents, t)) apply(d, null);
    if (['completed', 'aborted'].includes(s.state)) break;
  }
  return { state: s, agents, moved };
}

describe('failure-domain waves (properties)', () => {
  it('plans every node once, never two of one domain in a wave, and holds the per-domain limit at every step', () => {
    fc.assert(fc.property(fleetArb, (f) => void simulate(f)), { numRuns: numRuns(), ...(process.env.SEED ? { seed: Number(process.env.SEED), path: process.env.FCPATH, endOnFailure: true } : {}) });
  }, TIMEOUT);

  it('a healthy fleet completes even when nodes move between domains: a held node waits, it is never stuck', () => {
    const healthy = fleetArb.map((f) => ({
      ...f,
      nodes: f.nodes.map((n) => ({ ...n, behaviour: 'good' as const })),
      events: [
        ...f.events.map((e) => ({ ...e, blip: undefined, cmd: undefined })),
        ...Array.from({ length: 200 }, () => ({ dt: 10_000, blip: undefined, move: undefined, cmd: undefined })),
      ],
    }));
    let moves = 0;
    fc.assert(
      fc.property(healthy, (f) => {
        const { state, agents, moved } = simulate(f);
        moves += moved;
        expect(state.state).toBe('completed');
        for (const n of state.nodes) expect(n.phase).toBe('healthy');
        for (const a of Object.values(agents)) expect(a.accepted).toEqual([2]);
      }),
      { numRuns: Math.max(30, Math.floor(numRuns() / 4)) },
    );
    // the scenarios do exercise migrations
    expect(moves).toBeGreaterThan(0);
  }, TIMEOUT);
});
