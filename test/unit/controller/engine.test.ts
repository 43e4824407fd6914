import { describe, expect, it } from 'vitest';
import { command, describe as describeRollout, newRollout, pushed, recover, renumberPush, step, type RolloutState, type RolloutTarget } from '../../../controller/rollout/engine.js';
import { parseStrategy, type StrategyInput } from '../../../controller/rollout/strategy.js';
import { NwError } from '../../../host/errors.js';
import { iso, observe, run, simFleet, T0, type Behaviour } from './engine-sim.js';

const targets = (names: string[], over: Partial<RolloutTarget> = {}): RolloutTarget[] =>
  names.map((name) => ({ name, baseGeneration: 1, previousGeneration: 1, canRollBack: true, ...over }));

const rollout = (behaviours: Record<string, Behaviour>, s: StrategyInput = {}, over: Partial<RolloutTarget> = {}): RolloutState =>
  newRollout({ id: 'r1', target: 'group workers', nodes: targets(Object.keys(behaviours), over), strategy: parseStrategy({ minHealthy: '10s', gateTimeout: '60s', ...s }), now: iso(T0) });

const phases = (s: RolloutState) => Object.fromEntries(s.nodes.map((n) => [n.name, n.phase]));

describe('rollout engine', () => {
  it('rolls a healthy fleet out wave by wave, one node at a time by default', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    const r = rollout({ w1: 'good', w2: 'good', w3: 'good' }, { steps: '1,2' });
    expect(r.waveCount).toBe(2);
    const { state, pushes } = run(r, agents);
    expect(state.state).toBe('completed');
    expect(state.reason).toBeNull();
    expect(Object.values(phases(state))).toEqual(['healthy', 'healthy', 'healthy']);
    expect(pushes.map((p) => `${p.node}:${p.generation}:${p.desired}`).sort()).toEqual(['w1:2:target', 'w2:2:target', 'w3:2:target']);
    for (const a of Object.values(agents)) expect(a.accepted).toEqual([2]);
  });

  it('the first step pushes the canary and says what it waits for and how long is left', () => {
    const r = rollout({ w1: 'good', w2: 'good' });
    const agents = simFleet({ w1: 'good', w2: 'good' });
    const t1 = step(r, observe(agents, T0), iso(T0));
    expect(t1.next.version).toBe(1);
    expect(t1.actions).toEqual([
      { kind: 'push', node: 'w1', generation: 2, desired: 'target' },
      { kind: 'wait', until: iso(T0 + 60_000) },
    ]);
    const t2 = pushed(t1.next, 'w1', 2, { ok: true }, iso(T0 + 500));
    expect(t2.next.nodes[0]).toMatchObject({ phase: 'gating', gateStartedAt: iso(T0 + 500), deadline: iso(T0 + 60_500) });
    expect(describeRollout(t2.next, iso(T0 + 30_500)).waitsFor).toEqual([
      'w1: waits for target generation 2, converged and ready (gate deadline in 30 s)',
    ]);
    // the same observations again change nothing: same state object, same version
    const same = step(t2.next, observe(agents, T0), iso(T0 + 600));
    expect(same.next).toBe(t2.next);
  });

  it('a canary that fails its gate is rolled back with a new generation and the rollout pauses; others untouched', () => {
    const behaviours = { w1: 'bad', w2: 'good', w3: 'good' } as const;
    const agents = simFleet(behaviours);
    const { state, pushes } = run(rollout(behaviours, { steps: '1,2' }), agents);
    expect(state.state).toBe('paused');
    expect(state.reason).toMatch(/failure budget exceeded \(1 failures, budget 0\): node w1 failed its gate: not ready/);
    expect(phases(state)).toEqual({ w1: 'rolled_back', w2: 'pending', w3: 'pending' });
    expect(pushes).toEqual([
      { kind: 'push', node: 'w1', generation: 2, desired: 'target' },
      { kind: 'push', node: 'w1', generation: 3, desired: 'previous' },
    ]);
    expect(agents.w1.content).toBe('previous');
    expect(agents.w2.accepted).toEqual([]);
    // abort leaves everyone else untouched
    const aborted = command(state, { kind: 'abort', actor: 'op' }, iso(T0 + 999_000)).next;
    expect(aborted.state).toBe('aborted');
    expect(phases(aborted)).toEqual({ w1: 'rolled_back', w2: 'skipped', w3: 'skipped' });
    expect(step(aborted, {}, iso(T0 + 999_999)).actions).toEqual([]);
  });

  it('never rolls back to an identical spec or without a previous state', () => {
    const behaviours = { w1: 'bad' } as const;
    const { state, pushes } = run(rollout(behaviours, {}, { canRollBack: false }), simFleet(behaviours));
    expect(phases(state)).toEqual({ w1: 'failed' });
    expect(pushes).toHaveLength(1);
    const noAuto = run(rollout(behaviours, { autoRollback: false }), simFleet(behaviours));
    expect(phases(noAuto.state)).toEqual({ w1: 'failed' });
  });

  it('budget 1 with onFailure skip: one bad node is rolled back and skipped, the rest complete', () => {
    const behaviours = { w1: 'good', w2: 'bad', w3: 'good', w4: 'good' } as const;
    const { state } = run(rollout(behaviours, { steps: '1', failureBudget: '1', onFailure: 'skip' }), simFleet(behaviours));
    expect(state.state).toBe('completed');
    expect(state.failures).toBe(1);
    expect(phases(state)).toEqual({ w1: 'healthy', w2: 'rolled_back', w3: 'healthy', w4: 'healthy' });
    expect(state.reason).toMatch(/w2 \(rolled_back\)/);
  });

  it('budget 1: the second failure stops the run (exceeded, not met); halt halts', () => {
    const behaviours = { w1: 'bad', w2: 'bad', w3: 'good' } as const;
    const skip = run(rollout(behaviours, { steps: '1', failureBudget: '1', onFailure: 'skip' }), simFleet(behaviours)).state;
    expect(skip).toMatchObject({ state: 'paused', failures: 2 });
    expect(phases(skip).w3).toBe('pending');
    const halt = run(rollout(behaviours, { steps: '1', failureBudget: '1', onFailure: 'halt' }), simFleet(behaviours)).state;
    expect(halt).toMatchObject({ state: 'halted', failures: 1 });
    expect(() => command(halt, { kind: 'resume', actor: 'op' }, iso(T0))).toThrow(NwError);
  });

  it('a node healthy once that flaps before minHealthy is not a success', () => {
    const behaviours = { w1: 'flappy' } as const;
    const { state } = run(rollout(behaviours), simFleet(behaviours));
    expect(state.nodes[0].phase).toBe('rolled_back');
    expect(state.nodes[0].reason).toMatch(/failed its gate/);
  });

  it('an unreachable node is never healthy: its gate times out', () => {
    const behaviours = { w1: 'down' } as const;
    const r = rollout(behaviours, {}, { canRollBack: false });
    const { state, t } = run(r, simFleet(behaviours));
    // down counts as unavailable before the rollout touches it, and one unavailable node is allowed to start
    expect(state.nodes[0]).toMatchObject({ phase: 'failed' });
    expect(state.nodes[0].reason).toMatch(/unreachable/);
    expect(t - T0).toBeGreaterThanOrEqual(60_000);
  });

  it('nodes already unhealthy outside the rollout count against maxUnavailable', () => {
    const behaviours = { w1: 'good', w2: 'good' } as const;
    const r = rollout(behaviours);
    const agents = simFleet(behaviours);
    const blocked = step(r, observe(agents, T0, { x9: 'degraded' }), iso(T0));
    expect(blocked.next.state).toBe('waiting');
    expect(blocked.next.reason).toMatch(/maxUnavailable 1, unavailable now: x9/);
    expect(blocked.actions.filter((a) => a.kind === 'push')).toEqual([]);
    const two = rollout(behaviours, { maxUnavailable: '2', steps: '2' });
    expect(step(two, observe(agents, T0, { x9: 'degraded' }), iso(T0)).actions.filter((a) => a.kind === 'push')).toHaveLength(1);
  });

  it('soaks between waves and waits for the maintenance window, saying until when', () => {
    const behaviours = { w1: 'good', w2: 'good' } as const;
    const agents = simFleet(behaviours);
    const first = run(rollout(behaviours, { soak: '5m' }), agents, { limit: 40 });
    expect(first.state.state).toBe('waiting');
    expect(first.state.reason).toMatch(/^soaking after wave 1: the next wave starts at /);
    // 2026-12-01 is a Tuesday; the window opens at 22:00 Berlin = 21:00 UTC
    const closed = rollout(behaviours, { windows: 'Mon-Fri 22:00-04:00 Europe/Berlin' });
    const w = step(closed, observe(agents, T0), iso(T0));
    expect(w.next.reason).toBe('outside the maintenance windows; the next opens at 2026-12-01T21:00:00.000Z');
    expect(w.actions).toEqual([{ kind: 'wait', until: '2026-12-01T21:00:00.000Z' }]);
    const open = step(closed, observe(agents, Date.parse('2026-12-01T21:00:00Z')), '2026-12-01T21:00:00.000Z');
    expect(open.actions[0]).toMatchObject({ kind: 'push', node: 'w1' });
  });

  it('pause stops new pushes (in-flight gates finish); resume continues', () => {
    const behaviours = { w1: 'good', w2: 'good' } as const;
    const agents = simFleet(behaviours);
    const r = rollout(behaviours, { steps: '1' });
    let s = step(r, observe(agents, T0), iso(T0)).next;
    s = pushed(s, 'w1', 2, { ok: true }, iso(T0)).next;
    agents.w1.generation = 2; agents.w1.content = 'target'; agents.w1.acceptedAt = T0;
    s = command(s, { kind: 'pause', actor: 'op' }, iso(T0 + 1000)).next;
    expect(s).toMatchObject({ state: 'paused', reason: 'paused by op' });
    const later = run(s, agents, { from: T0 + 2000 });
    expect(phases(later.state)).toEqual({ w1: 'healthy', w2: 'pending' });
    expect(later.pushes).toEqual([]);
    const resumed = command(later.state, { kind: 'resume', actor: 'op' }, iso(later.t)).next;
    expect(run(resumed, agents, { from: later.t }).state.state).toBe('completed');
  });

  it('after a restart, a push that may have happened is observed, not blindly re-pushed', () => {
    const behaviours = { w1: 'good', w2: 'good' } as const;
    const agents = simFleet(behaviours);
    const s = step(rollout(behaviours, { steps: '2', maxUnavailable: '2' }), observe(agents, T0), iso(T0)).next;
    // w1's push reached the agent before the crash, w2's did not
    agents.w1.generation = 2; agents.w1.content = 'target'; agents.w1.acceptedAt = T0;
    const r = recover(s, observe(agents, T0 + 5000), iso(T0 + 5000));
    expect(r.actions.filter((a) => a.kind === 'push')).toEqual([{ kind: 'push', node: 'w2', generation: 2, desired: 'target' }]);
    expect(phases(r.next)).toEqual({ w1: 'gating', w2: 'pushing' });
  });

  it('after a restart, a gate in progress counts minHealthy again (health across the outage is unknown)', () => {
    const behaviours = { w1: 'good' } as const;
    const agents = simFleet(behaviours);
    let s = step(rollout(behaviours), observe(agents, T0), iso(T0)).next;
    s = pushed(s, 'w1', 2, { ok: true }, iso(T0)).next;
    agents.w1.generation = 2; agents.w1.content = 'target'; agents.w1.acceptedAt = T0;
    s = step(s, observe(agents, T0 + 3000), iso(T0 + 3000)).next;
    expect(s.nodes[0].healthySince).toBe(iso(T0 + 3000));
    const tr = recover(s, observe(agents, T0 + 59_000), iso(T0 + 59_000));
    const r = tr.next;
    expect(r.nodes[0]).toMatchObject({ phase: 'gating', healthySince: null, deadline: iso(T0 + 69_000) });
    expect(tr.actions.filter((a) => a.kind === 'push')).toEqual([]);
    expect(run(r, agents, { from: T0 + 59_000 }).state.nodes[0].phase).toBe('healthy');
  });

  it('the rollback command returns every node that got the target, then ends aborted', () => {
    const behaviours = { w1: 'good', w2: 'good', w3: 'good' } as const;
    const agents = simFleet(behaviours);
    const done = run(rollout(behaviours, { steps: '1' }), agents).state;
    expect(done.state).toBe('completed');
    const rb = command(done, { kind: 'rollback', actor: 'op' }, iso(T0 + 500_000)).next;
    const { state, pushes } = run(rb, agents, { from: T0 + 500_000 });
    expect(state).toMatchObject({ state: 'aborted', reason: 'rolled back (by op)' });
    expect(pushes.map((p) => `${p.node}:${p.generation}:${p.desired}`)).toEqual(['w1:3:previous', 'w2:3:previous', 'w3:3:previous']);
    expect(Object.values(phases(state))).toEqual(['rolled_back', 'rolled_back', 'rolled_back']);
  });

  it('the rollback command also returns a node that failed its gate without automatic rollback', () => {
    const behaviours = { w1: 'bad', w2: 'good' } as const;
    const agents = simFleet(behaviours);
    const failed = run(rollout(behaviours, { autoRollback: false }), agents).state;
    expect(phases(failed)).toEqual({ w1: 'failed', w2: 'pending' });
    expect(agents.w1.content).toBe('target');
    const { state } = run(command(failed, { kind: 'rollback', actor: 'op' }, iso(T0 + 200_000)).next, agents, { from: T0 + 200_000 });
    expect(phases(state)).toEqual({ w1: 'rolled_back', w2: 'skipped' });
    expect(agents.w1).toMatchObject({ content: 'previous', accepted: [2, 3] });
  });

  it('keeps a refused push as a failure, and ignores outcomes of pushes no longer current', () => {
    const behaviours = { w1: 'good' } as const;
    const s = step(rollout(behaviours, {}, { canRollBack: false }), observe(simFleet(behaviours), T0), iso(T0)).next;
    expect(pushed(s, 'w1', 7, { ok: true }, iso(T0)).next).toBe(s);
    const refused = pushed(s, 'w1', 2, { ok: false, definite: true, reason: 'NW_STALE' }, iso(T0)).next;
    expect(refused).toMatchObject({ failures: 1, state: 'paused' });
    expect(refused.nodes[0].reason).toMatch(/refused generation 2: NW_STALE/);
  });

  it('refuses commands that make no sense with NW_ROLLOUT', () => {
    const done = run(rollout({ w1: 'good' }), simFleet({ w1: 'good' })).state;
    for (const kind of ['pause', 'resume', 'abort'] as const) {
      expect(() => command(done, { kind, actor: 'op' }, iso(T0))).toThrow(/cannot .* rollout r1: it is .*completed/);
    }
    expect(() => newRollout({ id: 'x', target: 'group empty', nodes: [], strategy: parseStrategy(), now: iso(T0) })).toThrow(/no nodes match group empty/);
  });
});

describe('renumberPush: an expired push in doubt goes out as a new generation', () => {
  const started = (): RolloutState => {
    const s = newRollout({ id: 'r1', target: 'nodes w1', now: iso(T0), strategy: parseStrategy(), nodes: targets(['w1']) });
    return step(s, {}, iso(T0)).next;
  };

  it('moves the target generation of a pushing node, says why, and is a new version', () => {
    const s = started();
    const n = s.nodes[0];
    expect(n).toMatchObject({ phase: 'pushing', targetGeneration: 2 });
    const next = renumberPush(s, 'w1', 2, 5, iso(T0 + 1000));
    expect(next.version).toBe(s.version + 1);
    expect(next.nodes[0]).toMatchObject({ phase: 'pushing', targetGeneration: 5, reason: expect.stringMatching(/generation 2 expired.*generation 5/) });
    // the push of the old generation is no longer current: its outcome is ignored
    expect(pushed(next, 'w1', 2, { ok: true }, iso(T0 + 2000)).next).toBe(next);
    expect(pushed(next, 'w1', 5, { ok: true }, iso(T0 + 2000)).next.nodes[0].phase).toBe('gating');
  });

  it('changes nothing for another generation or node', () => {
    const s = started();
    expect(renumberPush(s, 'w1', 7, 8, iso(T0 + 1000))).toBe(s);
    expect(renumberPush(s, 'w9', 2, 8, iso(T0 + 1000))).toBe(s);
  });
});
