// Prometheus text exposition of the controller: nodes by state, poll latency histogram, push and
// gate outcomes, rollout progress (a few series; no client library needed). Everything is kept in
// memory and fed by the daemon (the fleet view, every rollout transition): a scrape reads no rows.
import type { NodeDomain } from './rollout/domains.js';
import type { RolloutState } from './rollout/engine.js';
import { isFinished, summarize } from './rollout/summary.js';
import type { NodeHealth } from './store/store.js';

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ControllerMetrics {
  private readonly pollBuckets = new Array<number>(BUCKETS_S.length).fill(0);
  private pollSum = 0;
  private pollCount = 0;
  readonly polls = new Map<string, number>();
  readonly pushes = new Map<string, number>();
  readonly gates = new Map<string, number>();
  /** Rollout gate evaluations, keyed `gate\0pass|hold`. */
  readonly gateChecks = new Map<string, number>();
  /** Progress of the rollouts still going (finished ones leave the gauges). */
  private readonly rollouts = new Map<string, { state: string; done: number; total: number; gates: { gate: string; pass: boolean }[] }>();
  /** The health of every enrolled node (the daemon points this at its fleet view). */
  nodeHealth: () => Iterable<NodeHealth> = () => [];
  /** [node, certificate not-after] of every enrolled node whose expiry is known. */
  certExpiries: () => Iterable<[string, string]> = () => [];
  /** [node, group, failure domain] of every enrolled node under the configured source. */
  failureDomains: () => Iterable<[string, string, NodeDomain]> = () => [];
  /** True while this controller is the leader: started and holding the epoch (the daemon wires it). */
  leader: () => boolean = () => false;
  /** The not-after of the controller's own serving certificate (renewed by hand: `nodewright certs renew`). */
  ownCertNotAfter: () => string | null = () => null;
  /** Hypervisor mapping refreshes by outcome (ok, failed). */
  readonly hypervisorMaps = new Map<string, number>();

  trackRollout(s: RolloutState): void {
    if (isFinished(s)) return void this.rollouts.delete(s.id);
    const sum = summarize(s);
    this.rollouts.set(s.id, { state: sum.state, done: sum.done, total: sum.nodes, gates: (s.gates ?? []).map((g) => ({ gate: g.gate, pass: g.pass })) });
  }

  observePoll(ms: number, outcome: string): void {
    const s = ms / 1000;
    for (let i = 0; i < BUCKETS_S.length; i++) if (s <= BUCKETS_S[i]) this.pollBuckets[i]++;
    this.pollSum += s;
    this.pollCount++;
    this.polls.set(outcome, (this.polls.get(outcome) ?? 0) + 1);
  }

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  render(): string {
    const L: string[] = [];
    const head = (name: string, type: string, help: string) => L.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head('nodewright_controller_leader', 'gauge', '1 while this controller is the leader (acts on rollouts), else 0.');
    L.push(`nodewright_controller_leader ${this.leader() ? 1 : 0}`);
    head('nodewright_nodes', 'gauge', 'Enrolled nodes by health state.');
    const byState = new Map<string, number>(['healthy', 'degraded', 'unreachable', 'unknown'].map((s) => [s, 0]));
    for (const h of this.nodeHealth()) byState.set(h, (byState.get(h) ?? 0) + 1);
    for (const [s, v] of byState) L.push(`nodewright_nodes{state="${s}"} ${v}`);
    head('nodewright_node_cert_expiry_seconds', 'gauge', 'Seconds until the pinned certificate of a node expires (negative: expired).');
    const now = Date.now();
    for (const [node, notAfter] of this.certExpiries()) L.push(`nodewright_node_cert_expiry_seconds{node="${node}"} ${Math.round((Date.parse(notAfter) - now) / 1000)}`);
    const own = this.ownCertNotAfter();
    if (own) {
      head('nodewright_controller_cert_expiry_seconds', 'gauge', 'Seconds until the controller\'s own certificate expires (negative: expired).');
      L.push(`nodewright_controller_cert_expiry_seconds ${Math.round((Date.parse(own) - now) / 1000)}`);
    }
    head('nodewright_node_failure_domain', 'gauge', 'The failure domain of each mapped node (1), and the rule or label that gave it.');
    let unmapped = 0;
    for (const [node, group, d] of this.failureDomains()) {
      if (d.failureDomain === null) unmapped++;
      else L.push(`nodewright_node_failure_domain{node="${esc(node)}",group="${esc(group)}",failure_domain="${esc(d.failureDomain)}",source="${esc(d.failureDomainSource ?? '')}"} 1`);
    }
    head('nodewright_nodes_unmapped', 'gauge', 'Enrolled nodes without a failure domain (each is its own domain in a rollout).');
    L.push(`nodewright_nodes_unmapped ${unmapped}`);
    head('nodewright_poll_duration_seconds', 'histogram', 'Latency of status polls.');
    BUCKETS_S.forEach((b, i) => L.push(`nodewright_poll_duration_seconds_bucket{le="${b}"} ${this.pollBuckets[i]}`));
    L.push(`nodewright_poll_duration_seconds_bucket{le="+Inf"} ${this.pollCount}`, `nodewright_poll_duration_seconds_sum ${this.pollSum}`, `nodewright_poll_duration_seconds_count ${this.pollCount}`);
    const counter = (name: string, help: string, label: string, m: Map<string, number>) => {
      head(name, 'counter', help);
      for (const [k, v] of m) L.push(`${name}{${label}="${k}"} ${v}`);
    };
    counter('nodewright_polls_total', 'Status polls by outcome.', 'outcome', this.polls);
    counter('nodewright_pushes_total', 'Bundle pushes by outcome.', 'outcome', this.pushes);
    counter('nodewright_gates_total', 'Health gates by outcome.', 'outcome', this.gates);
    counter('nodewright_hypervisor_map_refreshes_total', 'Hypervisor mapping refreshes (one Nova server and hypervisor listing each) by outcome.', 'outcome', this.hypervisorMaps);
    head('nodewright_rollout_gate_checks_total', 'counter', 'Evaluations of rollout gates (the strategy\'s gates:) by gate and result (pass, hold).');
    for (const [k, v] of this.gateChecks) {
      const [gate, result] = k.split('\u0000');
      L.push(`nodewright_rollout_gate_checks_total{gate="${esc(gate)}",result="${result}"} ${v}`);
    }
    head('nodewright_rollout_gate_passing', 'gauge', 'Whether each gate of a rollout still going passes (1) or holds it (0), as of its latest evaluation.');
    for (const [id, r] of this.rollouts) for (const g of r.gates) L.push(`nodewright_rollout_gate_passing{rollout="${id}",gate="${esc(g.gate)}"} ${g.pass ? 1 : 0}`);
    head('nodewright_rollout_nodes_done', 'gauge', 'Nodes of a rollout that are finished (healthy, skipped or rolled back).');
    for (const [id, r] of this.rollouts) L.push(`nodewright_rollout_nodes_done{rollout="${id}",state="${r.state}"} ${r.done}`);
    head('nodewright_rollout_nodes', 'gauge', 'Nodes a rollout targets.');
    for (const [id, r] of this.rollouts) L.push(`nodewright_rollout_nodes{rollout="${id}",state="${r.state}"} ${r.total}`);
    return L.join('\n') + '\n';
  }
}

/** A Prometheus label value: backslash, double quote and newline escaped. */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
