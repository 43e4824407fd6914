import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planWaves, parseRamp, stepSize, type PlanNode, type RampStep } from '../../../controller/rollout/plan.js';
import { NwError } from '../../../host/errors.js';

const nodesArb = fc
  .array(fc.tuple(fc.nat(40), fc.integer({ min: 0, max: 7 })), { maxLength: 60 })
  .map((pairs) => {
    const seen = new Set<number>();
    return pairs
      .filter(([n]) => (seen.has(n) ? false : (seen.add(n), true)))
      .map(([n, d]): PlanNode => ({ name: `w${n}`, failureDomain: `hv${d}` }));
  });
const stepArb: fc.Arbitrary<RampStep> = fc.oneof(
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 1, max: 100 }).map((p) => `${p}%` as RampStep),
);
const rampArb = fc.array(stepArb, { minLength: 1, maxLength: 5 });

describe('planWaves (properties)', () => {
  it('every node is planned exactly once', () => {
    fc.assert(
      fc.property(nodesArb, rampArb, (nodes, ramp) => {
        const names = planWaves(nodes, ramp).waves.flatMap((w) => w.nodes.map((n) => n.name));
        expect(names.sort()).toEqual(nodes.map((n) => n.name).sort());
      }),
    );
  });

  it('never puts two nodes of one failure domain in the same wave', () => {
    fc.assert(
      fc.property(nodesArb, rampArb, (nodes, ramp) => {
        for (const w of planWaves(nodes, ramp).waves) {
          const domains = w.nodes.map((n) => n.failureDomain);
          expect(new Set(domains).size).toBe(domains.length);
        }
      }),
    );
  });

  it('each wave is as full as the ramp step, the nodes left and the failure domains left allow', () => {
    fc.assert(
      fc.property(nodesArb, rampArb, (nodes, ramp) => {
        const remaining = new Map<string, number>();
        for (const n of nodes) remaining.set(n.failureDomain, (remaining.get(n.failureDomain) ?? 0) + 1);
        let left = nodes.length;
        for (const w of planWaves(nodes, ramp).waves) {
          const step = ramp[Math.min(w.index, ramp.length - 1)];
          expect(w.target).toBe(stepSize(step, nodes.length));
          const domainsLeft = [...remaining.values()].filter((c) => c > 0).length;
          expect(w.nodes.length).toBe(Math.min(w.target, left, domainsLeft));
          expect(w.nodes.length).toBeGreaterThan(0);
          for (const n of w.nodes) remaining.set(n.failureDomain, remaining.get(n.failureDomain)! - 1);
          left -= w.nodes.length;
        }
        expect(left).toBe(0);
      }),
    );
  });

  it('reports a shortfall exactly for waves smaller than min(step, nodes left)', () => {
    fc.assert(
      fc.property(nodesArb, rampArb, (nodes, ramp) => {
        const plan = planWaves(nodes, ramp);
        let left = nodes.length;
        const expected: number[] = [];
        for (const w of plan.waves) {
          if (w.nodes.length < Math.min(w.target, left)) expected.push(w.index);
          left -= w.nodes.length;
        }
        expect(plan.shortfalls.map((s) => s.wave)).toEqual(expected);
        for (const s of plan.shortfalls) expect(s.planned).toBeLessThan(s.target);
      }),
    );
  });

  it('uses the fewest waves possible when the ramp is flat (max per-domain count when step ≥ domains)', () => {
    fc.assert(
      fc.property(nodesArb.filter((n) => n.length > 0), (nodes) => {
        const counts = new Map<string, number>();
        for (const n of nodes) counts.set(n.failureDomain, (counts.get(n.failureDomain) ?? 0) + 1);
        const plan = planWaves(nodes, [counts.size]);
        expect(plan.waves.length).toBe(Math.max(...counts.values()));
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(nodesArb, rampArb, (nodes, ramp) => {
        expect(planWaves(nodes, ramp)).toEqual(planWaves(nodes, ramp));
      }),
    );
  });
});

describe('planWaves (examples)', () => {
  const fleet = (spec: Record<string, number>): PlanNode[] =>
    Object.entries(spec).flatMap(([hv, n]) => Array.from({ length: n }, (_, i) => ({ name: `${hv}-w${i}`, failureDomain: hv })));

  it('ramps 1, 5, 20% over 4 hypervisors', () => {
    const plan = planWaves(fleet({ a: 3, b: 3, c: 2, d: 2 }), [1, 5, '20%']);
    expect(plan.waves.map((w) => w.nodes.length)).toEqual([1, 4, 2, 2, 1]);
    expect(plan.waves.map((w) => w.target)).toEqual([1, 5, 2, 2, 2]);
    expect(plan.shortfalls).toEqual([
      expect.objectContaining({ wave: 1, step: 5, target: 5, planned: 4, reason: expect.stringContaining('4 failure domain') }),
    ]);
  });

  it('all workers behind one hypervisor go one per wave, and says so', () => {
    const plan = planWaves(fleet({ only: 3 }), [2]);
    expect(plan.waves.map((w) => w.nodes.map((n) => n.name))).toEqual([['only-w0'], ['only-w1'], ['only-w2']]);
    expect(plan.shortfalls.map((s) => s.wave)).toEqual([0, 1]); // the last wave has only one worker left anyway
  });

  it('an empty fleet has no waves', () => {
    expect(planWaves([], [1, '20%'])).toEqual({ waves: [], shortfalls: [] });
  });

  it('rejects bad ramps and duplicate nodes with NW_ROLLOUT', () => {
    const n = fleet({ a: 1 });
    for (const ramp of [[], [0], [1.5], ['0%'], ['150%'], ['x%']] as unknown as RampStep[][]) {
      expect(() => planWaves(n, ramp)).toThrow(NwError);
    }
    expect(() => planWaves([...n, ...n], [1])).toThrow(/appears twice/);
  });

  it('parses a ramp spec', () => {
    expect(parseRamp('1, 5,20%')).toEqual([1, 5, '20%']);
    expect(stepSize('20%', 11)).toBe(3);
    expect(stepSize('1%', 3)).toBe(1);
  });
});
