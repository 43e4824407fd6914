import { expect, it } from 'vitest';
import { newRollout } from '../../../controller/rollout/engine.js';
import { eventsOf } from '../../../controller/rollout/executor.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { iso, run, simFleet, T0 } from './engine-sim.js';

it('the audit events of a rollback name the rollback generation, the target events the target one', () => {
  const agents = simFleet({ w1: 'bad' });
  const start = newRollout({
    id: 'r1',
    target: 'group workers',
    nodes: [{ name: 'w1', baseGeneration: 1, previousGeneration: 1, canRollBack: true }],
    strategy: parseStrategy({ minHealthy: '10s', gateTimeout: '60s' }),
    now: iso(T0),
  });
  const { state } = run(start, agents);
  expect(state.nodes[0]).toMatchObject({ phase: 'rolled_back', targetGeneration: 2, rollbackGeneration: 3 });
  const rolledBack = eventsOf({ ...state, nodes: [{ ...state.nodes[0], phase: 'rolling_back' }] }, state, 'controller', iso(T0));
  expect(rolledBack[0]).toMatchObject({ kind: 'rollout.node.rolled_back', data: { generation: 3 } });
  expect(rolledBack[0].message).toMatch(/w1 rolled back \(generation 3\)/);
  const gating = eventsOf(start, { ...start, nodes: [{ ...start.nodes[0], phase: 'gating', targetGeneration: 2 }] }, 'controller', iso(T0));
  expect(gating[0]).toMatchObject({ kind: 'rollout.node.gating', data: { generation: 2 } });
});
