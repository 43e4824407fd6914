// A rollout in one line: what `rollout ls` and the store's summary column hold. Derived from the
// state by one pure function, so the list, the metrics and a pruned rollout show the same answer.
import type { RolloutNode, RolloutState } from './engine.js';

/** A node that is finished in its rollout (nothing more will happen to it). */
export const isSettled = (n: Pick<RolloutNode, 'phase'>): boolean =>
  n.phase === 'healthy' || n.phase === 'skipped' || n.phase === 'rolled_back' || n.phase === 'failed';

/** A rollout that will never act again. */
export const isFinished = (s: Pick<RolloutState, 'state'>): boolean => s.state === 'completed' || s.state === 'aborted';

export interface RolloutSummary {
  id: string;
  state: RolloutState['state'];
  reason: string | null;
  target: string;
  wave: number;
  waveCount: number;
  nodes: number;
  done: number;
  failures: number;
  createdAt: string;
  updatedAt: string;
}

export function summarize(s: RolloutState): RolloutSummary {
  let done = 0;
  for (const n of s.nodes) if (isSettled(n)) done++;
  return {
    id: s.id, state: s.state, reason: s.reason, target: s.target, wave: s.wave, waveCount: s.waveCount,
    nodes: s.nodes.length, done, failures: s.failures, createdAt: s.createdAt, updatedAt: s.updatedAt,
  };
}
