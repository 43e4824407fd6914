// The daemon's rollout bookkeeping: node → rollout, the fast-poll set and gate outcomes, from the
// executor's transitions (what daemon.ts kept inline before).
import { describe, expect, it } from 'vitest';
import { newRollout, pushed, step, type RolloutState } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { RolloutTracker } from '../../../controller/rollout/tracker.js';
import { iso, observe, simFleet, T0 } from '../controller/engine-sim.js';

const rollout = (): RolloutState =>
  newRollout({
    id: 'r1', target: 'group workers',
    nodes: ['w1', 'w2'].map((name) => ({ name, baseGeneration: 1, previousGeneration: 1, canRollBack: true })),
    strategy: parseStrategy({ minHealthy: '10s', gateTimeout: '60s' }), now: iso(T0),
  });

describe('RolloutTracker', () => {
  it('knows which rollout a node is in, polls the nodes in flight fast, counts gate outcomes', () => {
    const gates: string[] = [];
    const t = new RolloutTracker({ onGate: (o) => gates.push(o) });
    const r0 = rollout();
    t.track(r0);
    expect([t.rolloutOf('w1'), t.rolloutOf('w2'), t.rolloutOf('w9')]).toEqual(['r1', 'r1', undefined]);
    expect([...t.fast]).toEqual([]);
    const agents = simFleet({ w1: 'good', w2: 'good' });
    const r1 = step(r0, observe(agents, T0), iso(T0)).next; // w1 pushed
    t.transition(r1);
    expect([...t.fast]).toEqual(['w1']);
    const r2 = pushed(r1, 'w1', 2, { ok: true }, iso(T0 + 100)).next; // w1 gating
    t.transition(r2);
    expect(r2.nodes[0].phase).toBe('gating');
    const done: RolloutState = { ...r2, state: 'completed', nodes: r2.nodes.map((n) => ({ ...n, phase: 'healthy' })) };
    t.transition(done);
    expect(gates).toEqual(['passed']);
    expect([...t.fast]).toEqual([]);
    expect(t.rolloutOf('w1')).toBeUndefined();
  });
});
