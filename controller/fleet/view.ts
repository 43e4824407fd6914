// The fleet as the controller last saw it, in memory: each node's group and latest observation.
// Loaded from the store at start (the store stays the source of truth after a crash), then fed
// by the poller on every poll, so the rollout executor's 1 s ticks read no database rows (nor
// does the dashboard's fleet page, which watches `version`).
import { failureDomainOf, type FailureDomainSource, type NodeDomain } from '../rollout/domains.js';
import type { NodeObservation, NodeRecord, Store } from '../store/store.js';

interface Entry {
  group: string;
  obs: NodeObservation;
  certNotAfter?: string;
  /** what a failure domain is read from */
  placement?: Pick<NodeRecord, 'labels' | 'hypervisor' | 'hypervisorRule'>;
}

export const observationOf = (n: NodeRecord): NodeObservation => ({
  health: n.health, reason: n.reason, generation: n.generation, converged: n.converged, ready: n.ready, at: n.lastSeenAt ?? n.healthSince,
});

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

export class FleetView {
  private readonly nodes = new Map<string, Entry>();
  private readonly groups = new Map<string, Set<string>>();
  private changes = 0;

  /** Grows whenever what the view shows changed: an observation (its time aside), membership, placement. */
  get version(): number {
    return this.changes;
  }

  static async fromStore(store: Pick<Store, 'listNodes'>): Promise<FleetView> {
    const v = new FleetView();
    v.sync(await store.listNodes());
    return v;
  }

  /** Make the membership match the inventory: new nodes start from their stored observation. */
  sync(records: readonly NodeRecord[]): void {
    const seen = new Set<string>();
    for (const n of records) {
      seen.add(n.name);
      const e = this.nodes.get(n.name);
      if (!e) this.add(n.name, n.group, observationOf(n));
      else if (e.group !== n.group) {
        this.groups.get(e.group)?.delete(n.name);
        this.add(n.name, n.group, e.obs);
      }
      const entry = this.nodes.get(n.name)!;
      entry.certNotAfter = n.certNotAfter ?? undefined;
      const p = entry.placement;
      if (!e || !p || p.hypervisor !== (n.hypervisor ?? null) || !sameLabels(p.labels, n.labels)) this.changes++;
      entry.placement = { labels: n.labels, hypervisor: n.hypervisor ?? null, hypervisorRule: n.hypervisorRule ?? null };
    }
    for (const name of [...this.nodes.keys()]) if (!seen.has(name)) this.remove(name);
  }

  /** The poller's latest observation of an enrolled node (unknown names are ignored). */
  observe(name: string, obs: NodeObservation): void {
    const e = this.nodes.get(name);
    if (!e) return;
    const o = e.obs;
    if (o.health !== obs.health || o.reason !== obs.reason || o.generation !== obs.generation || o.converged !== obs.converged || o.ready !== obs.ready) this.changes++;
    e.obs = obs;
  }

  remove(name: string): void {
    const e = this.nodes.get(name);
    if (!e) return;
    this.changes++;
    this.nodes.delete(name);
    this.groups.get(e.group)?.delete(name);
  }

  /** The latest health of every node (for the metrics gauge). */
  *healths(): Iterable<NodeRecord['health']> {
    for (const e of this.nodes.values()) yield e.obs.health;
  }

  /** [node, not-after of its pinned certificate] for the nodes whose expiry is known (metrics). */
  *certExpiries(): Iterable<[string, string]> {
    for (const [name, e] of this.nodes) if (e.certNotAfter) yield [name, e.certNotAfter];
  }

  /** [node, group, failure domain under `source`] of every node (metrics). */
  *failureDomains(source: FailureDomainSource): Iterable<[string, string, NodeDomain]> {
    for (const [name, e] of this.nodes) yield [name, e.group, failureDomainOf(e.placement ?? { labels: {} }, source)];
  }

  /** The node's failure domain under `source` as last listed from the store (null: unknown node or unmapped). */
  failureDomainOf(name: string, source: FailureDomainSource): string | null {
    const e = this.nodes.get(name);
    return e ? failureDomainOf(e.placement ?? { labels: {} }, source).failureDomain : null;
  }

  /** Every node with its placement and latest observation (the dashboard's fleet page). */
  *entries(): Iterable<{ name: string; group: string; labels: Record<string, string>; hypervisor: string | null; hypervisorRule: NodeRecord['hypervisorRule']; obs: NodeObservation; certNotAfter?: string }> {
    for (const [name, e] of this.nodes) {
      yield { name, group: e.group, labels: e.placement?.labels ?? {}, hypervisor: e.placement?.hypervisor ?? null, hypervisorRule: e.placement?.hypervisorRule ?? null, obs: e.obs, certNotAfter: e.certNotAfter };
    }
  }

  /** The latest observation of a node (null: not enrolled). */
  observation(name: string): NodeObservation | null {
    return this.nodes.get(name)?.obs ?? null;
  }

  /** How many nodes the view holds. */
  get size(): number {
    return this.nodes.size;
  }

  groupOf(name: string): string | undefined {
    return this.nodes.get(name)?.group;
  }

  /** Observations of every node in the groups of `names` (maxUnavailable counts the whole group). */
  observationsAround(names: Iterable<string>): Record<string, NodeObservation> {
    const groups = new Set<string>();
    for (const n of names) {
      const g = this.groupOf(n);
      if (g !== undefined) groups.add(g);
    }
    const out: Record<string, NodeObservation> = {};
    for (const g of groups) for (const n of this.groups.get(g) ?? []) out[n] = this.nodes.get(n)!.obs;
    return out;
  }

  private add(name: string, group: string, obs: NodeObservation): void {
    this.nodes.set(name, { group, obs });
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Set()));
    g.add(name);
  }
}
