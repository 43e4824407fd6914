import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  command, isInFlight, newRollout, recover, step,
  type Action, type Command, type RolloutState, type RolloutTarget, type Transition,
} from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import type { NodeObservation } from '../../../controller/store/store.js';
import { NwError } from '../../../host/errors.js';
import { deliver, iso, numRuns, observe, simFleet, T0, type Behaviour } from './engine-sim.js';


// Whole-rollout scenarios: 2,000 take about a minute on a quiet 2-core machine.
const TIMEOUT = numRuns() > 1000 ? 20 * 60_000 : 120_000;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const nodeArb = fc.record({
  behaviour: fc.constantFrom<Behaviour>('good', 'good', 'good', 'bad', 'flappy', 'down'),
  domain: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  canRollBack: fc.boolean(),
});
const strategyArb = fc.record({
  steps: fc.constantFrom('1', '1,2', '1,5,20%', '2', '50%', '1,3'),
  maxUnavailable: fc.constantFrom('1', '2', '3', '30%'),
  failureBudget: fc.constantFrom('0', '1', '2', '20%'),
  onFailure: fc.constantFrom('pause', 'halt', 'skip'),
  minHealthy: fc.constantFrom('5s', '10s', '20s'),
  gateTimeout: fc.constantFrom('30s', '45s', '90s'),
  soak: fc.constantFrom('0s', '0s', '30s'),
  autoRollback: fc.boolean(),
});
const eventArb = fc.record({
  dt: fc.integer({ min: 200, max: 15_000 }),
  cmd: fc.option(fc.constantFrom<Command['kind']>('pause', 'resume', 'resume', 'abort', 'rollback'), { freq: 12, nil: undefined }),
  crash: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});
const scenarioArb = fc.record({
  nodes: fc.array(nodeArb, { minLength: 1, maxLength: 10 }),
  strategy: strategyArb,
  outside: fc.array(fc.constantFrom<NodeObservation['health']>('healthy', 'degraded', 'unreachable'), { maxLength: 2 }),
  events: fc.array(eventArb, { minLength: 20, maxLength: 100 }),
});

type Scenario = fc.RecordValue<typeof scenarioArb extends fc.Arbitrary<infer T> ? { [K in keyof T]: fc.Arbitrary<T[K]> } : never>;

function simulate(sc: Scenario) {
  const names = sc.nodes.map((_, i) => `w${i}`);
  const agents = simFleet(Object.fromEntries(names.map((n, i) => [n, sc.nodes[i].behaviour])));
  const outside = Object.fromEntries(sc.outside.map((h, i) => [`x${i}`, h]));
  const targets: RolloutTarget[] = names.map((name, i) => ({
    name, failureDomain: sc.nodes[i].domain === undefined ? undefined : `hv${sc.nodes[i].domain}`,
    baseGeneration: 1, previousGeneration: 1, canRollBack: sc.nodes[i].canRollBack,
  }));
  const strategy = parseStrategy(sc.strategy);
  let s = newRollout({ id: 'r', target: 'group g', nodes: targets, strategy, now: iso(T0) });

  // waves never hold two workers of one failure domain
  for (let w = 0; w < s.waveCount; w++) {
    const domains = s.nodes.filter((n) => n.wave === w).map((n) => n.failureDomain);
    expect(new Set(domains).size).toBe(domains.length);
  }

  const pushedGens = new Map<string, number[]>();
  const lastNotHolding = new Map<string, number>();
  let aborted = false;
  let commanded = false;
  let t = T0;

  const check = (before: RolloutState, tr: Transition, source: 'step' | 'pushed' | 'command' | 'recover', obs?: Record<string, NodeObservation>) => {
    const next = tr.next;
    if (aborted) {
      expect(tr.actions).toEqual([]);
      expect(next.state).toBe('aborted');
    }
    // never more than maxUnavailable in flight
    expect(next.nodes.filter(isInFlight).length).toBeLessThanOrEqual(next.maxUnavailable);
    for (const a of tr.actions) {
      if (a.kind === 'wait') {
        expect(a.until).toMatch(ISO);
        continue;
      }
      const seen = pushedGens.get(a.node) ?? [];
      if (source === 'recover') {
        // a push in doubt is repeated with the SAME generation, nothing new
        expect(seen).toContain(a.generation);
      } else {
        // never pushed twice for the same step; generations only go up
        expect(seen).not.toContain(a.generation);
        expect(a.generation).toBeGreaterThan(Math.max(1, ...seen));
        seen.push(a.generation);
        pushedGens.set(a.node, seen);
      }
      if (a.desired === 'target' && source !== 'recover') {
        // pause, halt, abort and rollback are honoured: nothing new starts
        expect(next.state).toBe('running');
        expect(next.rollingBack).toBe(false);
      }
    }
    // the budget: a failure beyond it stops the run
    if (next.failures > before.failures && next.failures > next.failureBudget && !next.rollingBack) {
      expect(['paused', 'halted']).toContain(next.state);
    }
    // deadlines are absolute timestamps
    for (const n of next.nodes) {
      for (const v of [n.deadline, n.gateStartedAt, n.healthySince]) if (v !== null) expect(v).toMatch(ISO);
      if (isInFlight(n) && next.state !== 'aborted') expect(n.deadline).not.toBeNull();
    }
    if (next.soakUntil !== null) expect(next.soakUntil).toMatch(ISO);
    // healthy only after minHealthy without interruption; unreachable never healthy
    if (source === 'step' && obs) {
      for (const n of next.nodes) {
        const b = before.nodes.find((x) => x.name === n.name)!;
        if ((n.phase === 'healthy' || n.phase === 'rolled_back') && b.phase !== n.phase) {
          expect(agents[n.name].behaviour).not.toBe('down');
          expect(obs[n.name].health).toBe('healthy');
          expect(t - (lastNotHolding.get(n.name) ?? -Infinity)).toBeGreaterThan(strategy.minHealthyMs);
          expect(t - Date.parse(b.healthySince!)).toBeGreaterThanOrEqual(strategy.minHealthyMs);
        }
      }
    }
    if (!commanded) for (const n of next.nodes) expect(n.phase).not.toBe('skipped');
  };

  const apply = (tr: Transition, source: 'step' | 'pushed' | 'command' | 'recover', obs?: Record<string, NodeObservation>) => {
    check(s, tr, source, obs);
    s = tr.next;
  };
  const deliverAll = (actions: Action[]) => {
    for (const d of deliver(s, actions, agents, t)) apply(d, 'pushed');
  };

  for (const ev of sc.events) {
    t += ev.dt;
    if (ev.cmd) {
      let tr: Transition | null = null;
      try {
        tr = command(s, { kind: ev.cmd, actor: 'prop' }, iso(t));
      } catch (e) {
        expect(e).toBeInstanceOf(NwError);
        expect((e as NwError).code).toBe('NW_ROLLOUT');
      }
      if (tr) {
        commanded ||= ev.cmd === 'abort' || ev.cmd === 'rollback';
        apply(tr, 'command');
        if (ev.cmd === 'abort') aborted = true;
      }
    }
    const obs = observe(agents, t, outside);
    for (const n of s.nodes) {
      const gen = n.phase === 'rolling_back' ? n.rollbackGeneration : n.targetGeneration;
      const o = obs[n.name];
      const holds = o.health === 'healthy' && o.generation === gen && o.converged && o.ready;
      if (!holds) lastNotHolding.set(n.name, t);
    }
    const tr = step(s, obs, iso(t));
    apply(tr, 'step', obs);
    if (ev.crash) {
      // the controller dies after recording the transition: pushes are lost, then it restarts
      t += 1000;
      const r = recover(s, observe(agents, t, outside), iso(t));
      apply(r, 'recover');
      deliverAll(r.actions);
    } else {
      deliverAll(tr.actions);
    }
  }
  return { state: s, agents, pushedGens };
}

describe('rollout engine (properties)', () => {
  it('holds maxUnavailable, failure domains, one push per step, budget, pause/abort and absolute deadlines', () => {
    fc.assert(fc.property(scenarioArb, (sc) => void simulate(sc)), { numRuns: numRuns() });
  }, TIMEOUT);

  it('a healthy fleet with no commands always completes, every node accepting the target exactly once', () => {
    const healthy = scenarioArb.map((sc) => ({
      ...sc,
      nodes: sc.nodes.map((n) => ({ ...n, behaviour: 'good' as const })),
      outside: [],
      events: Array.from({ length: 130 }, () => ({ dt: 10_000, cmd: undefined, crash: false })),
    }));
    fc.assert(
      fc.property(healthy, (sc) => {
        const { state, agents } = simulate(sc);
        expect(state.state).toBe('completed');
        for (const n of state.nodes) expect(n.phase).toBe('healthy');
        for (const a of Object.values(agents)) expect(a.accepted).toEqual([2]);
      }),
      { numRuns: Math.max(20, Math.floor(numRuns() / 10)) },
    );
  }, TIMEOUT);
});
