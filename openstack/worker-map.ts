// Which hypervisor runs this worker? A pure function over the workers' facts (GET /v1/status of
// each agent) and what Nova says (servers of every project, hypervisors), usable by the CLI
// (`nodewright hosts map`) and, later, by the controller's rollout planner.
// Rules, strongest first, and each worker says which one matched and why the others did not:
//   1. uuid — the instance UUID (SMBIOS product_uuid = the Nova server id). Robust: unique, never reused.
//   2. ip   — one of the worker's addresses is a fixed IP of exactly one server. Fails when addresses
//             are NATed, overlap between projects, or the server has none (no Neutron).
//   3. name — the worker's node name or hostname is the name of exactly one server. Weakest: names
//             are neither unique nor stable in Nova.
// A rule that finds several servers never picks one: it is reported ambiguous and the next rule runs.
import type { RawServer } from './nova.js';
import type { HypervisorView } from './types.js';

export interface WorkerInput {
  /** The worker's name (Kubernetes node name / agent `node`). */
  node: string;
  hostname?: string;
  addresses?: string[];
  instanceUuid?: string;
  /** where the facts came from (agent URL, file), for messages */
  source?: string;
}

export type MatchRule = 'uuid' | 'ip' | 'name';

export interface RuleOutcome {
  rule: MatchRule;
  matched: boolean;
  /** why it matched or did not ("no instanceUuid reported", "2 servers have 10.0.0.5: a, b", …) */
  reason: string;
}

export interface WorkerPlacement {
  node: string;
  source?: string;
  rule: MatchRule | null;
  server: { id: string; name: string; status: string } | null;
  /** OS-EXT-SRV-ATTR:host of the server (Nova's compute service host) */
  service_host: string | null;
  hypervisor: HypervisorView | null;
  tried: RuleOutcome[];
  error?: { code: string; message: string };
}

const addrsOf = (s: RawServer) => Object.values(s.addresses ?? {}).flatMap((l) => l.map((a) => a.addr));
const short = (n: string) => n.split('.')[0];
const list = (ss: RawServer[]) => ss.map((s) => `${s.name} (${s.id})`).join(', ');

/** The servers indexed once per placement run: each rule is a lookup, not a scan (20,000 workers × 20,000 servers). */
interface ServerIndex {
  byId: Map<string, RawServer>;
  byAddr: Map<string, RawServer[]>;
  byName: Map<string, RawServer[]>;
}

function indexServers(servers: RawServer[]): ServerIndex {
  const ix: ServerIndex = { byId: new Map(), byAddr: new Map(), byName: new Map() };
  const push = (m: Map<string, RawServer[]>, k: string, s: RawServer) => {
    const l = m.get(k);
    if (!l) m.set(k, [s]);
    else if (l[l.length - 1] !== s) l.push(s);
  };
  for (const s of servers) {
    const id = s.id.toLowerCase();
    if (!ix.byId.has(id)) ix.byId.set(id, s);
    for (const a of addrsOf(s)) push(ix.byAddr, a, s);
    push(ix.byName, s.name, s);
  }
  return ix;
}

function byUuid(w: WorkerInput, ix: ServerIndex): { hit?: RawServer; outcome: RuleOutcome } {
  if (!w.instanceUuid) return { outcome: { rule: 'uuid', matched: false, reason: 'the worker reports no instanceUuid (no DMI product_uuid, no agent.yaml instanceUuid)' } };
  const id = w.instanceUuid.toLowerCase();
  const hit = ix.byId.get(id);
  return hit
    ? { hit, outcome: { rule: 'uuid', matched: true, reason: `server id ${hit.id} = instanceUuid` } }
    : { outcome: { rule: 'uuid', matched: false, reason: `no server has id ${id} (not a Nova guest of this cloud, or deleted)` } };
}

function byIp(w: WorkerInput, ix: ServerIndex, order: Map<RawServer, number>): { hit?: RawServer; outcome: RuleOutcome } {
  const addrs = w.addresses ?? [];
  if (addrs.length === 0) return { outcome: { rule: 'ip', matched: false, reason: 'the worker reports no addresses' } };
  const hits = [...new Set(addrs.flatMap((a) => ix.byAddr.get(a) ?? []))].sort((a, b) => order.get(a)! - order.get(b)!);
  if (hits.length === 1) {
    const ip = addrsOf(hits[0]).find((a) => addrs.includes(a));
    return { hit: hits[0], outcome: { rule: 'ip', matched: true, reason: `${ip} is a fixed IP of server ${hits[0].name}` } };
  }
  if (hits.length > 1) return { outcome: { rule: 'ip', matched: false, reason: `ambiguous: ${hits.length} servers have one of ${addrs.join(', ')}: ${list(hits)}` } };
  return { outcome: { rule: 'ip', matched: false, reason: `no server has any of ${addrs.join(', ')} as a fixed IP` } };
}

function byName(w: WorkerInput, ix: ServerIndex): { hit?: RawServer; outcome: RuleOutcome } {
  const names = [...new Set([w.node, w.hostname, w.hostname && short(w.hostname)].filter((n): n is string => !!n))];
  for (const n of names) {
    const hits = ix.byName.get(n) ?? [];
    if (hits.length === 1) return { hit: hits[0], outcome: { rule: 'name', matched: true, reason: `server ${hits[0].id} is named ${n}` } };
    if (hits.length > 1) return { outcome: { rule: 'name', matched: false, reason: `ambiguous: ${hits.length} servers are named ${n}: ${list(hits)}` } };
  }
  return { outcome: { rule: 'name', matched: false, reason: `no server is named ${names.join(' or ')}` } };
}

/** Place every worker (pure). `hypervisors` are matched to servers by service host. */
export function placeWorkers(workers: WorkerInput[], servers: RawServer[], hypervisors: HypervisorView[]): WorkerPlacement[] {
  const ix = indexServers(servers);
  const order = new Map(servers.map((s, i) => [s, i]));
  const hvByHost = new Map<string, HypervisorView>();
  for (const h of hypervisors) if (h.service_host && !hvByHost.has(h.service_host)) hvByHost.set(h.service_host, h);
  const rules = [(w: WorkerInput) => byUuid(w, ix), (w: WorkerInput) => byIp(w, ix, order), (w: WorkerInput) => byName(w, ix)];
  return workers.map((w) => {
    const tried: RuleOutcome[] = [];
    for (const rule of rules) {
      const { hit, outcome } = rule(w);
      tried.push(outcome);
      if (!hit) continue;
      const host = hit['OS-EXT-SRV-ATTR:host'] ?? null;
      const hv = host ? (hvByHost.get(host) ?? null) : null;
      const base = { node: w.node, source: w.source, rule: outcome.rule, server: { id: hit.id, name: hit.name, status: hit.status }, service_host: host, hypervisor: hv, tried };
      if (!host) return { ...base, error: { code: 'NW_OPENSTACK_FORBIDDEN', message: `server ${hit.name} shows no OS-EXT-SRV-ATTR:host; that attribute needs an admin token` } };
      if (!hv) return { ...base, error: { code: 'NW_NOT_FOUND', message: `no hypervisor has service host ${host}` } };
      return base;
    }
    return {
      node: w.node,
      source: w.source,
      rule: null,
      server: null,
      service_host: null,
      hypervisor: null,
      tried,
      error: { code: 'NW_NOT_FOUND', message: `no server matches worker ${w.node}: ${tried.map((t) => `${t.rule}: ${t.reason}`).join('; ')}` },
    };
  });
}
