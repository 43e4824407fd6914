// One GET /v1/status of an enrolled node outside the poller: for a controller that does not poll
// it (a follower of an HA set) and wants to show the agent's own account (the dashboard's node
// page). The same bounded, deadlined, pinned request as a poll; nothing is written anywhere.
import type { AgentStatus } from '../../protocol/status.js';
import type { NodeRecord } from '../store/store.js';
import type { AgentClient } from './agent-client.js';
import { judge } from './health.js';

export type AskedStatus = { status: AgentStatus } | { problem: string };

export async function askStatus(client: AgentClient, node: NodeRecord, deadlineMs: number): Promise<AskedStatus> {
  const { outcome } = await client.status({ url: node.url, node: { name: node.name, certSha256: node.certSha256 } }, { deadlineMs });
  if (outcome === 'not-modified') return { problem: 'the agent answered 304 to a request without an ETag' };
  if (outcome.kind === 'status') return { status: outcome.status };
  return { problem: judge(outcome, new Date().toISOString()).reason ?? outcome.kind };
}
