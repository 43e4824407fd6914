// The rollout page's content: waves strip, the real reason (node, check, the agent's message), time left, budget, actions.
import { describe, expect, it } from 'vitest';
import { sampleStatus } from '../../../../bench/sim-agents.js';
import { command, newRollout, pushed, step, type RolloutState } from '../../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../../controller/rollout/strategy.js';
import { actionsFor, agentCheck, rolloutModel, waveStateOf, type NodeEvidence } from '../../../../controller/ui/rollout-model.js';

const T0 = '2026-12-07T10:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const targets = ['w1', 'w2', 'w3'].map((name) => ({ name, baseGeneration: 1, previousGeneration: 1, canRollBack: true }));
const healthy = (generation: number | null) => ({ health: 'healthy' as const, reason: null, generation, converged: true, ready: true, at: T0 });

function started(): RolloutState {
  const s0 = newRollout({ id: 'r-1', target: 'group lab', nodes: targets, strategy: parseStrategy({ steps: '1,100%', gateTimeout: '60s', minHealthy: '10s' }), now: T0 });
  const obs = { w1: healthy(1), w2: healthy(1), w3: healthy(1) };
  const s1 = step(s0, obs, T0).next; // w1 pushing
  return pushed(s1, 'w1', s1.nodes.find((n) => n.name === 'w1')!.targetGeneration!, { ok: true }, at(1)).next;
}

describe('rolloutModel', () => {
  it('a canary gating: wave 0 active, 1 pending; what it waits for and the time left; budget; pause/abort/rollback apply', () => {
    const m = rolloutModel(started(), at(11), () => null);
    expect(m.phase).toBe('running');
    expect(m.waves.map((w) => w.state)).toEqual(['active', 'pending']);
    expect(m.rows.find((n) => n.name === 'w1')!.phase).toBe('gating');
    expect(m.allRows).toBe(true);
    expect(m.counts).toMatchObject({ pending: 2, gating: 1, healthy: 0 });
    expect(m.waitsFor).toEqual(['w1: waits for target generation 2, converged and ready (gate deadline in 50 s)']);
    expect(m.timeLeft).toBe('50 s');
    expect(m.budget).toEqual({ used: 0, allowed: 0 });
    expect(m.actions).toEqual(['pause', 'abort', 'rollback']);
    expect(m.reason).toBeNull();
    expect(Object.fromEntries(m.strategy)).toMatchObject({ steps: '1, 100%', onFailure: 'pause', gateTimeout: '60 s' });
  });

  it('a failed canary: paused, and the reason names the node, the failed step and the agent\'s own message', () => {
    const s = step(started(), { w1: { ...healthy(2), health: 'degraded', converged: false, ready: false, reason: 'unit failed (NW_SYSTEMD)' } }, at(70)).next;
    expect(s.state).toBe('paused');
    const status = sampleStatus('w1');
    status.steps = status.steps.map((x) => (x.name === 'unit' ? { ...x, state: 'failed', message: 'kubelet.service exited 1: <b>bad flag</b>', error: { code: 'NW_SYSTEMD', message: 'start failed' } } : x));
    const evidence = (n: string): NodeEvidence | null => (n === 'w1' ? { status, reason: 'unit failed (NW_SYSTEMD)', health: 'degraded' } : null);
    const m = rolloutModel(s, at(71), evidence);
    expect(m.reason).toMatchObject({ node: 'w1', check: 'step unit (failed)', message: 'kubelet.service exited 1: <b>bad flag</b> — NW_SYSTEMD: start failed' });
    expect(m.reason!.text).toContain('node w1 failed its gate');
    expect(m.waves[0].state).toBe('failed');
    expect(m.budget).toEqual({ used: 1, allowed: 0 });
    expect(m.actions).toEqual(['resume', 'abort', 'rollback']);
  });

  it('on a follower (no agent status) the stored observation reason is the message', () => {
    const s = step(started(), { w1: { ...healthy(2), health: 'unreachable', reason: 'connect ECONNREFUSED' } }, at(70)).next;
    const m = rolloutModel(s, at(71), () => ({ status: null, reason: 'connect ECONNREFUSED', health: 'unreachable' }));
    expect(m.reason).toMatchObject({ node: 'w1', check: 'unreachable', message: 'connect ECONNREFUSED' });
  });

  it('paused by an operator: the reason says who, with no node', () => {
    const s = command(started(), { kind: 'pause', actor: 'operator:alice' }, at(2)).next;
    expect(rolloutModel(s, at(3), () => null).reason).toEqual({ text: 'paused by operator:alice', node: null, check: null, message: null });
  });
});

describe('waveStateOf', () => {
  it('past waves are done (pruned nodes too); waves an abort skipped stay pending; the current one is active while it runs', () => {
    expect([0, 1].map((i) => waveStateOf({ wave: 2, state: 'completed' }, i, []))).toEqual(['done', 'done']);
    expect(waveStateOf({ wave: 1, state: 'aborted' }, 1, [{ phase: 'skipped' }])).toBe('pending');
    expect(waveStateOf({ wave: 1, state: 'running' }, 1, [{ phase: 'gating' }, { phase: 'healthy' }])).toBe('active');
    expect(waveStateOf({ wave: 1, state: 'paused' }, 1, [{ phase: 'failed' }])).toBe('failed');
  });
});

describe('actionsFor / agentCheck', () => {
  it('only the commands the engine accepts for the phase', () => {
    expect(actionsFor({ state: 'halted', rollingBack: false })).toEqual(['abort', 'rollback']);
    expect(actionsFor({ state: 'completed', rollingBack: false })).toEqual(['rollback']);
    expect(actionsFor({ state: 'aborted', rollingBack: false })).toEqual([]);
    expect(actionsFor({ state: 'running', rollingBack: true })).toEqual(['pause', 'abort']);
  });

  it('a failing probe is the check when no step failed', () => {
    const st = sampleStatus('w1');
    st.probes = [{ name: 'kubelet-healthz', status: 'fail', ok: false, durationMs: 31.2, error: { code: 'NW_PROBE', message: 'connection refused' } }];
    expect(agentCheck(st)).toEqual({ check: 'probe kubelet-healthz', message: 'NW_PROBE: connection refused' });
  });

  it('a failed step whose error repeats its message: the message once, with the code', () => {
    const st = sampleStatus('w1');
    st.steps = st.steps.map((x) => (x.name === 'probes' ? { ...x, state: 'failed', message: 'rbd timed out', error: { code: 'NW_CEPH_TIMEOUT', message: 'rbd timed out' } } : x));
    expect(agentCheck(st)).toEqual({ check: 'step probes (failed)', message: 'rbd timed out — NW_CEPH_TIMEOUT' });
  });
});

describe('rolloutModel at fleet scale', () => {
  /** 2,000 nodes in waves of 10 (201 waves), half-way: 990 healthy, 1 failed, 150 gating in one wave, the rest pending. */
  function big(): RolloutState {
    const names = Array.from({ length: 2000 }, (_, i) => ({ name: `n${String(i).padStart(4, '0')}`, baseGeneration: 1, previousGeneration: 1, canRollBack: true }));
    const s = newRollout({ id: 'r-big', target: 'group big', nodes: names, strategy: parseStrategy({ steps: '1,10', maxUnavailable: 200, failureBudget: 5, gateTimeout: '60s' }), now: T0 });
    const mid = 100;
    for (const n of s.nodes) {
      if (n.wave < mid) Object.assign(n, { phase: 'healthy', targetGeneration: 2 });
      if (n.name === 'n0500') Object.assign(n, { phase: 'failed', reason: 'gate deadline passed' });
    }
    // 150 in flight: more than the cap of rows
    for (const n of s.nodes.filter((x) => x.phase === 'pending').slice(0, 150)) Object.assign(n, { phase: 'gating', targetGeneration: 2, gateStartedAt: T0, deadline: at(60) });
    return { ...s, wave: mid, failures: 1 };
  }

  it('counts every phase; the rows are the failed node first and in-flight ones, capped at 100; waits-for capped at 20; the strip folded', () => {
    const s = big();
    const m = rolloutModel(s, at(10), () => null);
    expect(m.total).toBe(2000);
    expect(m.counts).toMatchObject({ healthy: s.nodes.filter((n) => n.phase === 'healthy').length, failed: 1, gating: 150, pending: 2000 - 150 - 1 - m.counts.healthy });
    expect(m.allRows).toBe(false);
    expect(m.rows).toHaveLength(100);
    expect(m.rows[0]).toMatchObject({ name: 'n0500', phase: 'failed' });
    expect(m.rows.slice(1).every((r) => r.phase === 'gating')).toBe(true);
    expect(m.moreRows).toBe(51);
    expect(m.waitsFor).toHaveLength(20);
    expect(m.moreWaitsFor).toBe(130);
    expect(m.waves).toHaveLength(s.waveCount);
    expect(m.strip.length).toBeLessThanOrEqual(8);
    expect(m.strip.filter((b) => b.from === b.to).map((b) => b.state)).toEqual(expect.arrayContaining(['failed', 'active']));
  });
});
