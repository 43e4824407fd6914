// Which verified bundle the agent may take: the replay rules, as one pure function.
// The signature says who wrote a bundle; these rules say whether it is still for this node now:
// bound to this node (group) and not expired, and never older than what the agent already took
// (the highest generation is kept even when the stored bundle is dropped, e.g. after a key rotation).
import { createHash } from 'node:crypto';
import { NwError } from '../host/errors.js';
import { canonicalJson } from '../protocol/canonical.js';
import type { DesiredState } from '../protocol/desired.js';

/** The highest generation ever accepted, and the digest of its content. */
export interface AcceptedGeneration {
  generation: number;
  sha256: string;
}

/** Who the agent is, from agent.yaml. */
export interface AgentIdentity {
  node: string;
  nodeGroup: string | null;
}

/** `new`: store it and reconcile. `same`: this exact content is what the agent took last. */
export type Acceptance = 'new' | 'same';

export const desiredDigest = (d: DesiredState): string => createHash('sha256').update(canonicalJson(d)).digest('hex');

export const acceptedGenerationOf = (d: DesiredState): AcceptedGeneration => ({ generation: d.generation, sha256: desiredDigest(d) });

/** Throws NW_TARGET / NW_EXPIRED / NW_STALE / NW_GENERATION_CONFLICT, or says whether the bundle is new. */
export function checkAcceptance(held: AcceptedGeneration | null, incoming: DesiredState, agent: AgentIdentity, now: Date): Acceptance {
  checkTarget(incoming, agent);
  if (incoming.notAfter !== undefined && now.getTime() > Date.parse(incoming.notAfter)) {
    throw new NwError(
      'NW_EXPIRED',
      `generation ${incoming.generation} expired at ${incoming.notAfter} (agent clock ${now.toISOString()}): sign it again with a later --not-after, or check this host's clock`,
    );
  }
  if (!held || incoming.generation > held.generation) return 'new';
  if (incoming.generation < held.generation) {
    throw new NwError(
      'NW_STALE',
      `generation ${incoming.generation} is older than generation ${held.generation}, which this agent already accepted: to roll back, sign the old content as a new generation above ${held.generation}`,
      { held: held.generation, incoming: incoming.generation },
    );
  }
  if (desiredDigest(incoming) === held.sha256) return 'same';
  throw new NwError(
    'NW_GENERATION_CONFLICT',
    `generation ${incoming.generation} was already accepted with other content: a changed desired state needs a new generation above ${held.generation}`,
    { held: held.generation, incoming: incoming.generation },
  );
}

function checkTarget(d: DesiredState, agent: AgentIdentity): void {
  if (d.nodeGroup !== undefined && d.nodeGroup !== agent.nodeGroup) {
    throw new NwError(
      'NW_TARGET',
      agent.nodeGroup === null
        ? `the bundle is bound to node group ${d.nodeGroup}, but this agent has no nodeGroup in agent.yaml: set \`nodeGroup: ${d.nodeGroup}\` there if this node belongs to it`
        : `the bundle is bound to node group ${d.nodeGroup}, this agent is in ${agent.nodeGroup}: push it to that group's nodes`,
    );
  }
  if (d.nodes !== undefined && !d.nodes.includes(agent.node)) {
    throw new NwError('NW_TARGET', `the bundle is bound to nodes ${summarize(d.nodes)}, not to this node (${agent.node}): push it to those nodes, or sign one for this node`);
  }
}

const summarize = (names: string[]) => (names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`);
