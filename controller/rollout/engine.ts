// Placeholder for the pure rollout engine: the state shape the store persists.
export type RolloutStatus = 'running' | 'waiting' | 'paused' | 'halted' | 'completed' | 'aborted';

export interface RolloutState {
  id: string;
  /** Incremented by every transition (the store's optimistic check). */
  version: number;
  state: RolloutStatus;
  /** Why the rollout is not progressing, for humans. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}
