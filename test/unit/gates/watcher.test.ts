// The gate watcher: evaluates every gate of a going rollout on its interval, tells the executor only
// when a result changed, turns a throwing check into a hold, and stops at the end of the rollout.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GateWatcher } from '../../../controller/gates/watcher.js';
import { newRollout, type RolloutState } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';

const rollout = (): RolloutState =>
  newRollout({
    id: 'r1', target: 'group lab', now: '2026-12-01T10:00:00.000Z',
    nodes: [{ name: 'w1', baseGeneration: 1, previousGeneration: 1, canRollBack: true }],
    strategy: parseStrategy({ gates: [{ cephHealth: {} }, { prometheus: { url: 'http://127.0.0.1:9', alerts: '^A' } }] }),
  });

afterEach(() => void vi.useRealTimers());

describe('GateWatcher', () => {
  it('evaluates on its interval, reports changes only, holds on a throwing check, stops when the rollout finishes', async () => {
    vi.useFakeTimers();
    let ceph = { pass: false, message: 'HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)' };
    const changed: string[] = [];
    const w = new GateWatcher({
      check: async (g) => {
        if ('prometheus' in g) throw new Error('socket hang up');
        return ceph;
      },
      changed: (id) => changed.push(id),
      intervalMs: 1000,
    });
    const s = rollout();
    w.track(s);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.results('r1')).toEqual([
      { index: 0, gate: 'cephHealth', pass: false, message: 'HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)' },
      { index: 1, gate: 'prometheus alerts ^A', pass: false, message: 'check failed: socket hang up' },
    ]);
    expect(changed).toEqual(['r1']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(changed).toEqual(['r1']); // the same results: no step
    ceph = { pass: true, message: 'HEALTH_OK' };
    await vi.advanceTimersByTimeAsync(1000);
    expect(changed).toEqual(['r1', 'r1']);
    expect(w.results('r1')![0]).toMatchObject({ pass: true, message: 'HEALTH_OK' });
    w.track({ ...s, state: 'completed' });
    expect(w.results('r1')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000);
    expect(changed).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not watch a rollout without gates', () => {
    const check = vi.fn();
    const w = new GateWatcher({ check, changed: () => undefined, intervalMs: 1000 });
    w.track({ ...rollout(), strategy: parseStrategy({}) });
    expect(check).not.toHaveBeenCalled();
  });
});
