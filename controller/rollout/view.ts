// A rollout as `GET /v1/rollouts/:id` answers it and `rollout status` reads it: the state without
// the desired state it signs, plus what describe() derives (what it waits for, the time left, the
// failure-domain note). One type for the API and the CLI.
import { describe, type RolloutState } from './engine.js';

export type RolloutView = Omit<RolloutState, 'desired'> & ReturnType<typeof describe> & { pruned?: boolean };

export function rolloutView(s: RolloutState, now: string): RolloutView {
  const { desired: _d, ...rest } = s;
  return { ...rest, ...describe(s, now) };
}
