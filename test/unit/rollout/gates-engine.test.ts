// The engine with cluster gates: a failing gate holds the rollout (waiting, no new node touched)
// with the gate and its check in the reason; passing again, it continues by itself; gateFailure
// pause and the gateWaitTimeout turn the hold into a pause.
import { describe, expect, it } from 'vitest';
import { command, newRollout, step, type RolloutState } from '../../../controller/rollout/engine.js';
import type { GateResult } from '../../../controller/rollout/gates.js';
import { parseStrategy, type StrategyInput } from '../../../controller/rollout/strategy.js';
import { iso, observe, run, simFleet, T0 } from '../controller/engine-sim.js';

const names = ['w1', 'w2', 'w3'];
const rollout = (s: StrategyInput = {}): RolloutState =>
  newRollout({
    id: 'r1', target: 'group workers',
    nodes: names.map((name) => ({ name, baseGeneration: 1, previousGeneration: 1, canRollBack: true })),
    strategy: parseStrategy({ minHealthy: '10s', gateTimeout: '60s', steps: '1', gates: [{ cephHealth: { ignore: ['POOL_NO_REDUNDANCY'] } }], ...s }),
    now: iso(T0),
  });
const ok: GateResult = { index: 0, gate: 'cephHealth', pass: true, message: 'HEALTH_OK' };
const noout: GateResult = { index: 0, gate: 'cephHealth', pass: false, message: 'HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)' };
const started = (s: RolloutState) => s.nodes.filter((n) => n.phase !== 'pending').map((n) => n.name);

describe('rollout gates in the engine', () => {
  it('holds before the next wave while the gate fails, touches no new node, and continues when it passes', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    // passing for the canary's push, then noout from 5 s (the canary is gating) until 90 s
    const gates = (t: number) => [t - T0 >= 5_000 && t - T0 < 90_000 ? noout : ok];
    const held = run(rollout(), agents, { gates, until: (s) => s.state === 'waiting' && s.nodes[0].phase === 'healthy' });
    expect(held.state.state).toBe('waiting');
    expect(held.state.reason).toBe('gate cephHealth holds: HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)');
    expect(started(held.state)).toEqual(['w1']);
    expect(held.state.gates).toEqual([noout]);
    // 50 s later it is still held and still nobody new was pushed
    const still = run(held.state, agents, { from: held.t, gates, until: (_s, t) => t >= held.t + 50_000 });
    expect(still.pushes).toEqual([]);
    expect(still.state.state).toBe('waiting');
    const done = run(still.state, agents, { from: still.t, gates });
    expect(done.state.state).toBe('completed');
    expect(done.state.reason).toBeNull();
    expect(done.state.gates).toEqual([ok]);
    expect(done.state.gateHeldSince).toBeNull();
  });

  it('a gate never evaluated holds (it never counts as a pass)', () => {
    const t = step(rollout(), observe(simFleet({ w1: 'good', w2: 'good', w3: 'good' }), T0), iso(T0));
    expect(t.actions.filter((a) => a.kind === 'push')).toEqual([]);
    expect(t.next.state).toBe('waiting');
    expect(t.next.reason).toBe('gate cephHealth holds: not evaluated yet');
  });

  it('gateFailure pause pauses at once; resume with the gate passing continues', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    const paused = run(rollout({ gateFailure: 'pause' }), agents, { gates: () => [noout] });
    expect(paused.state.state).toBe('paused');
    expect(paused.state.reason).toBe('gate cephHealth holds: HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set) (gateFailure pause); resume once it passes, or abort');
    expect(paused.pushes).toEqual([]);
    const resumed = command(paused.state, { kind: 'resume', actor: 'op' }, iso(paused.t)).next;
    expect(run(resumed, agents, { from: paused.t, gates: () => [ok] }).state.state).toBe('completed');
  });

  it('a wait longer than gateWaitTimeout becomes a pause with the reason', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    const first = step(rollout({ gateWaitTimeout: '2m' }), observe(agents, T0), iso(T0), undefined, [noout]);
    expect(first.next.state).toBe('waiting');
    expect(first.actions).toContainEqual({ kind: 'wait', until: iso(T0 + 120_000) });
    const later = step(first.next, observe(agents, T0 + 60_000), iso(T0 + 60_000), undefined, [noout]);
    expect(later.next.state).toBe('waiting');
    const late = step(later.next, observe(agents, T0 + 120_000), iso(T0 + 120_000), undefined, [noout]);
    expect(late.next.state).toBe('paused');
    expect(late.next.reason).toBe('gate cephHealth holds: HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set); held longer than gateWaitTimeout 120 s; resume once it passes, or abort');
    // resumed, the wait starts over
    const resumed = command(late.next, { kind: 'resume', actor: 'op' }, iso(T0 + 130_000)).next;
    const again = step(resumed, observe(agents, T0 + 130_000), iso(T0 + 130_000), undefined, [noout]);
    expect(again.next.state).toBe('waiting');
    expect(again.next.gateHeldSince).toBe(iso(T0 + 130_000));
  });

  it('names every failing gate; nodes already in flight keep their own gate', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    const r = rollout({ gates: [{ cephHealth: {} }, { prometheus: { url: 'http://127.0.0.1:9090', alerts: '^Ceph' } }] });
    const alert: GateResult = { index: 1, gate: 'prometheus alerts ^Ceph', pass: false, message: 'alert CephHealthWarning firing' };
    const t1 = step(r, observe(agents, T0), iso(T0), undefined, [ok, { ...alert, pass: true, message: 'no matching alert' }]);
    expect(started(t1.next)).toEqual(['w1']);
    const t2 = step(t1.next, observe(agents, T0 + 1000), iso(T0 + 1000), undefined, [noout, alert]);
    expect(t2.next.state).toBe('waiting');
    expect(t2.next.reason).toBe('gate cephHealth holds: HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set); gate prometheus alerts ^Ceph holds: alert CephHealthWarning firing');
    expect(t2.next.nodes[0].phase).toBe('pushing');
  });

  it('a rollback is never held by the gates', () => {
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    const one = run(rollout(), agents, { gates: (t) => [t - T0 < 5_000 ? ok : noout], until: (s) => s.nodes[0].phase === 'healthy' });
    expect(started(one.state)).toEqual(['w1']);
    const back = command(one.state, { kind: 'rollback', actor: 'op' }, iso(one.t)).next;
    const t = step(back, observe(agents, one.t), iso(one.t), undefined, [noout]);
    expect(t.actions).toContainEqual(expect.objectContaining({ kind: 'push', node: 'w1', desired: 'previous' }));
  });
});
