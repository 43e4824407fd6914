// Which hypervisor runs each enrolled node (pure): the node's latest facts (its agent's status,
// else what it sent at join) placed on one listing of Nova's servers and hypervisors by
// openstack/worker-map.ts, and what changed against the stored mapping, with the audit event of
// each change. hypervisors.ts does the listing and the writing.
import type { RawServer } from '../../openstack/nova.js';
import type { HypervisorView } from '../../openstack/types.js';
import { placeWorkers, type MatchRule, type WorkerPlacement } from '../../openstack/worker-map.js';
import type { ControllerEvent, HypervisorChange, HypervisorMapping, HypervisorRule, NodeFacts, NodeRecord } from '../store/store.js';

export const RULE_NAMES: Record<MatchRule, HypervisorRule> = { uuid: 'instance-uuid', ip: 'fixed-ip', name: 'name' };

/** What a refresh found for one node (the change, and the server behind it for the event). */
export interface NodePlacement extends HypervisorChange {
  server: { id: string; name: string } | null;
  /** why nothing matched (null when mapped) */
  why: string | null;
}

/** The hypervisor a placement names: its hostname, else the server's compute service host. */
export function mappingOf(p: WorkerPlacement): HypervisorMapping | null {
  if (!p.rule || !p.server) return null;
  const hypervisor = p.hypervisor?.hypervisor_hostname ?? p.service_host;
  return hypervisor ? { hypervisor, rule: RULE_NAMES[p.rule] } : null;
}

/** Place every node on one listing; `latestFacts` wins over the facts stored at join. */
export function placeNodes(
  nodes: readonly Pick<NodeRecord, 'name' | 'facts'>[],
  latestFacts: (name: string) => Partial<NodeFacts> | null,
  servers: RawServer[],
  hypervisors: HypervisorView[],
): NodePlacement[] {
  const workers = nodes.map((n) => {
    const f = { ...n.facts, ...(latestFacts(n.name) ?? {}) };
    return { node: n.name, hostname: f.hostname, addresses: f.addresses, instanceUuid: f.instanceUuid };
  });
  return placeWorkers(workers, servers, hypervisors).map((p) => {
    const to = mappingOf(p);
    return { name: p.node, to, server: p.server ? { id: p.server.id, name: p.server.name } : null, why: to ? null : (p.error?.message ?? 'no server matches') };
  });
}

const same = (a: HypervisorMapping | null | undefined, b: HypervisorMapping | null | undefined) =>
  (a?.hypervisor ?? null) === (b?.hypervisor ?? null) && (a?.rule ?? null) === (b?.rule ?? null);

/** The placements that differ from what `nodes` hold (the store is written only for these). */
export function changedPlacements(nodes: readonly Pick<NodeRecord, 'name' | 'hypervisor' | 'hypervisorRule'>[], placements: NodePlacement[]): NodePlacement[] {
  const held = new Map(nodes.map((n) => [n.name, n.hypervisor ? { hypervisor: n.hypervisor, rule: n.hypervisorRule ?? 'name' } : null]));
  return placements.filter((p) => held.has(p.name) && !same(held.get(p.name), p.to));
}

/** The `node.failure-domain` event of one change ("w3 moved from cmp-a to cmp-b (instance-uuid)"). */
export function failureDomainEvent(p: NodePlacement, from: HypervisorMapping | null, at: string): Omit<ControllerEvent, 'id'> {
  const to = p.to;
  const by = (m: HypervisorMapping) => `${m.rule}${p.server ? ` ${p.server.id}` : ''}`;
  const message = !to
    ? `${p.name} is no longer found in Nova (was on ${from!.hypervisor}): ${p.why}`
    : !from
      ? `${p.name} mapped to hypervisor ${to.hypervisor} (${by(to)})`
      : from.hypervisor !== to.hypervisor
        ? `${p.name} moved from ${from.hypervisor} to ${to.hypervisor} (${by(to)})`
        : `${p.name} on ${to.hypervisor}, now found by ${by(to)} (was ${from.rule})`;
  return {
    at,
    actor: 'hypervisor-map',
    kind: 'node.failure-domain',
    subject: p.name,
    message,
    data: { from: from?.hypervisor ?? null, to: to?.hypervisor ?? null, rule: to?.rule ?? null, server: p.server?.id ?? null },
  };
}
