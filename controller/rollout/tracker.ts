// What the daemon needs to know about rollouts in flight, kept from the executor's transitions:
// which rollout each node belongs to (a poll that changes a node steps that rollout), the nodes a
// rollout is pushing to or gating (polled at the fast interval), and gate outcomes (for /metrics).
import { isInFlight, type RolloutState } from './engine.js';
import { isFinished as finished } from './summary.js';

export class RolloutTracker {
  /** Nodes a rollout is pushing to or gating right now. */
  readonly fast = new Set<string>();
  private readonly inRollout = new Map<string, string>();
  private readonly phases = new Map<string, string>(); // rollout/node → last phase

  constructor(private readonly o: { onGate?(outcome: 'passed' | 'failed'): void } = {}) {}

  /** The rollout (not finished) that node belongs to. */
  rolloutOf(node: string): string | undefined {
    return this.inRollout.get(node);
  }

  /** A rollout's state as loaded or committed: node memberships and the fast-poll set. */
  track(s: RolloutState): void {
    for (const n of s.nodes) {
      if (!finished(s) && isInFlight(n)) this.fast.add(n.name);
      else if (this.inRollout.get(n.name) === s.id) this.fast.delete(n.name);
      if (!finished(s)) this.inRollout.set(n.name, s.id);
      else if (this.inRollout.get(n.name) === s.id) this.inRollout.delete(n.name);
    }
  }

  /** A committed transition: tracked, and every node leaving its gate counted as passed or failed. */
  transition(next: RolloutState): void {
    this.track(next);
    for (const n of next.nodes) {
      const key = `${next.id}/${n.name}`;
      const before = this.phases.get(key);
      if (before === n.phase) continue;
      this.phases.set(key, n.phase);
      if (before === 'gating') this.o.onGate?.(n.phase === 'healthy' ? 'passed' : 'failed');
    }
    if (finished(next)) for (const n of next.nodes) this.phases.delete(`${next.id}/${n.name}`);
  }
}
