// What the store keeps (controller.yaml `retention:`), and what a pruning pass removed. Each
// kind is pruned by its own bounded transaction (at most `batch` rows), so a pass never holds
// the database long; a pass that hit the bound is followed by another one soon.
import type { RolloutState } from '../rollout/engine.js';

export interface RetentionPolicy {
  /** Audit events older than this are removed… */
  eventsMaxAgeMs: number;
  /** …and only the newest this many are kept. */
  eventsMaxCount: number;
  /** Signed desired states kept per node (plus any generation an active rollout still needs). */
  generationsPerNode: number;
  /** A finished rollout keeps its per-node detail this long… */
  rolloutDetailMaxAgeMs: number;
  /** …and only the newest this many finished rollouts keep it; the others are summaries. */
  rolloutDetailCount: number;
  /** Finished rollouts kept at all (as summaries), newest first. */
  rolloutSummaryCount: number;
  /** Rows one transaction removes at most. */
  batch: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = {
  eventsMaxAgeMs: 90 * DAY_MS,
  eventsMaxCount: 1_000_000,
  generationsPerNode: 10,
  rolloutDetailMaxAgeMs: 7 * DAY_MS,
  rolloutDetailCount: 20,
  rolloutSummaryCount: 1000,
  batch: 5000,
};

export interface PruneReport {
  events: number;
  desired: number;
  keyrings: number;
  rolloutDetails: number;
  rollouts: number;
  joinTokens: number;
  /** Expired dashboard sign-in codes and sessions. */
  uiLoginCodes: number;
  uiSessions: number;
  /** Some kind hit `batch`: run another pass. */
  more: boolean;
}

/** node → generations an active rollout may still push or roll back to. */
export function pinnedGenerations(active: readonly RolloutState[]): Map<string, Set<number>> {
  const pins = new Map<string, Set<number>>();
  for (const s of active) {
    for (const n of s.nodes) {
      let g = pins.get(n.name);
      if (!g) pins.set(n.name, (g = new Set()));
      for (const x of [n.baseGeneration, n.previousGeneration, n.targetGeneration, n.rollbackGeneration]) if (x !== null) g.add(x);
    }
  }
  return pins;
}
