// The fleet page's numbers, PURE: nodes grouped by failure domain (the hypervisor of the Nova
// mapping, "unmapped" otherwise), ready/total and the worst state of each group and of the whole
// (Rancher Fleet's "x/y ready", the worst state wins), filtered by domain, label, state and name.
// Computed on the server from the in-memory fleet view: no database row per node.
import { failureDomainOf } from '../rollout/domains.js';
import type { NodeHealth, NodeRecord } from '../store/store.js';

export const UNMAPPED = 'unmapped';
export const STATES: readonly NodeHealth[] = ['healthy', 'degraded', 'unreachable', 'unknown'];
/** The worse of two states wins: unreachable > degraded > unknown > healthy. */
const RANK: Record<NodeHealth, number> = { healthy: 0, unknown: 1, degraded: 2, unreachable: 3 };
export const worse = (a: NodeHealth, b: NodeHealth): NodeHealth => (RANK[b] > RANK[a] ? b : a);

/** One node as the fleet page needs it (fleet/view.ts FleetView.entries()). */
export interface FleetNode {
  name: string;
  labels: Record<string, string>;
  hypervisor?: string | null;
  hypervisorRule?: NodeRecord['hypervisorRule'];
  health: NodeHealth;
  reason: string | null;
  ready: boolean;
}

export interface FleetFilter {
  domain?: string;
  /** `key=value` (exact) or `key` (present) */
  label?: string;
  state?: string;
  /** part of the node's name, any case (a tile shows no name: the browser cannot find one) */
  name?: string;
}

export interface Tile { name: string; domain: string; state: NodeHealth; title: string }
export interface DomainHeader { domain: string; ready: number; total: number; worst: NodeHealth }
export interface DomainGroup extends DomainHeader { tiles: Tile[] }
export interface FleetSummary {
  ready: number;
  total: number;
  worst: NodeHealth;
  groups: DomainGroup[];
  /** every domain of the fleet, filter or not (the domain select) */
  domains: string[];
}

export const domainOf = (n: Pick<FleetNode, 'labels' | 'hypervisor' | 'hypervisorRule'>): string =>
  failureDomainOf({ labels: n.labels, hypervisor: n.hypervisor ?? null, hypervisorRule: n.hypervisorRule ?? null }, 'hypervisor').failureDomain ?? UNMAPPED;

/** A node counts as ready when it is healthy and its agent says ready. */
export const isReady = (n: Pick<FleetNode, 'health' | 'ready'>): boolean => n.health === 'healthy' && n.ready;

export const tileTitle = (n: Pick<FleetNode, 'name' | 'health' | 'reason'>): string => `${n.name}: ${n.health}${n.reason ? ` (${n.reason})` : ''}`;

function labelMatcher(label: string | undefined): (labels: Record<string, string>) => boolean {
  if (!label) return () => true;
  const i = label.indexOf('=');
  if (i < 0) return (l) => Object.hasOwn(l, label);
  const k = label.slice(0, i);
  const v = label.slice(i + 1);
  return (l) => Object.hasOwn(l, k) && l[k] === v;
}

const byDomainName = (a: string, b: string): number => (a === UNMAPPED ? 1 : b === UNMAPPED ? -1 : a < b ? -1 : a > b ? 1 : 0);

export function fleetSummary(nodes: Iterable<FleetNode>, f: FleetFilter = {}): FleetSummary {
  const hasLabel = labelMatcher(f.label);
  const part = f.name?.toLowerCase();
  const groups = new Map<string, DomainGroup>();
  const all = new Set<string>();
  let ready = 0;
  let total = 0;
  let worst: NodeHealth = 'healthy';
  for (const n of nodes) {
    const domain = domainOf(n);
    all.add(domain);
    if ((f.domain && f.domain !== domain) || (f.state && f.state !== n.health) || !hasLabel(n.labels) || (part && !n.name.toLowerCase().includes(part))) continue;
    let g = groups.get(domain);
    if (!g) groups.set(domain, (g = { domain, ready: 0, total: 0, worst: 'healthy', tiles: [] }));
    const r = isReady(n);
    g.total += 1;
    total += 1;
    if (r) {
      g.ready += 1;
      ready += 1;
    }
    g.worst = worse(g.worst, n.health);
    worst = worse(worst, n.health);
    g.tiles.push({ name: n.name, domain, state: n.health, title: tileTitle(n) });
  }
  const sorted = [...groups.values()].sort((a, b) => byDomainName(a.domain, b.domain));
  for (const g of sorted) g.tiles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ready, total, worst, groups: sorted, domains: [...all].sort(byDomainName) };
}

/**
 * What the live fleet stream sends: the tiles and headers that differ from what the page shows,
 * and those it shows no more (a node removed or gone out of the page's filter, an emptied domain).
 */
export interface FleetDelta {
  tiles: Tile[];
  headers: DomainHeader[];
  removed: string[];
  removedDomains: string[];
  summary: { ready: number; total: number; worst: NodeHealth };
}

/** The page's state as the stream remembers it (tile by name, header by domain). */
export interface FleetShown { tiles: Map<string, Tile>; headers: Map<string, DomainHeader>; summary: string }

export function shownOf(s: FleetSummary): FleetShown {
  const tiles = new Map<string, Tile>();
  const headers = new Map<string, DomainHeader>();
  for (const g of s.groups) {
    headers.set(g.domain, { domain: g.domain, ready: g.ready, total: g.total, worst: g.worst });
    for (const t of g.tiles) tiles.set(t.name, t);
  }
  return { tiles, headers, summary: `${s.ready}/${s.total}/${s.worst}` };
}

/** The changes from `before` to `now` (null: none); with no `before`, everything (a snapshot). */
export function fleetDelta(before: FleetShown | null, now: FleetSummary): { delta: FleetDelta | null; shown: FleetShown } {
  const shown = shownOf(now);
  const tiles: Tile[] = [];
  const headers: DomainHeader[] = [];
  for (const [name, t] of shown.tiles) {
    const b = before?.tiles.get(name);
    if (!b || b.state !== t.state || b.title !== t.title || b.domain !== t.domain) tiles.push(t);
  }
  const removed = before ? [...before.tiles.keys()].filter((n) => !shown.tiles.has(n)) : [];
  const removedDomains = before ? [...before.headers.keys()].filter((d) => !shown.headers.has(d)) : [];
  for (const [domain, h] of shown.headers) {
    const b = before?.headers.get(domain);
    if (!b || b.ready !== h.ready || b.total !== h.total || b.worst !== h.worst) headers.push(h);
  }
  const summary = { ready: now.ready, total: now.total, worst: now.worst };
  if (before && tiles.length + headers.length + removed.length + removedDomains.length === 0 && before.summary === shown.summary) return { delta: null, shown };
  return { delta: { tiles, headers, removed, removedDomains, summary }, shown };
}
