// The rollout executor's push (ExecutorDeps.push): POST /v1/desired to an enrolled node through the
// agent client, pinned to its enrolled certificate. Resolves `{ ok: true }` when the agent took the
// bundle; a refusal rejects with the client's coded error (the executor decides what is definite),
// anything else with the transport error (an outcome in doubt). Counts the pushes not yet on the
// wire, so a restarting controller lets them leave before it blocks its event loop.
import type { NodeRecord } from '../store/store.js';
import type { AgentClient } from './agent-client.js';

export interface PusherOptions {
  client: AgentClient;
  /** Total deadline of one push (the agent answers once it has accepted the bundle). */
  deadlineMs: number;
  onAccepted?(node: string): void;
  onRefused?(node: string): void;
}

export class Pusher {
  private unsentCount = 0;

  constructor(private readonly o: PusherOptions) {}

  /** Pushes handed to node:https whose request is not on the wire yet. */
  unsent(): number {
    return this.unsentCount;
  }

  async push(node: NodeRecord, bundle: unknown): Promise<{ ok: true }> {
    this.unsentCount++;
    let sent = false;
    const onSent = () => void (sent || ((sent = true), this.unsentCount--));
    try {
      await this.o.client.push({ url: node.url, node: { name: node.name, certSha256: node.certSha256 } }, bundle, { deadlineMs: this.o.deadlineMs, who: `agent ${node.name}`, onSent });
      this.o.onAccepted?.(node.name);
      return { ok: true };
    } catch (e) {
      this.o.onRefused?.(node.name);
      throw e;
    } finally {
      onSent();
    }
  }
}
