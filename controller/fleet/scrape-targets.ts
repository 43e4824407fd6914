// Prometheus HTTP service discovery (http_sd): every enrolled agent's metrics endpoint as one
// target group, labelled with what an operator slices alerts by. Pure: the route hands it the
// nodes, what the poller last read and the failure-domain source.
import { failureDomainOf, type FailureDomainSource } from '../rollout/domains.js';
import type { NodeRecord } from '../store/store.js';

/** One http_sd target group (https://prometheus.io/docs/prometheus/latest/http_sd/). */
export interface TargetGroup { targets: string[]; labels: Record<string, string> }

type Node = Pick<NodeRecord, 'name' | 'group' | 'url' | 'labels' | 'hypervisor' | 'hypervisorRule'>;

/** A node label key as a Prometheus label name: anything but [a-zA-Z0-9_] becomes `_`. */
const labelName = (key: string) => key.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * One group per node (its labels are its own), sorted by name. `node`, `group`, `failure_domain`
 * (when mapped) and `kubelet_version` (when the agent reported one) become labels of every series
 * scraped from it; the node's own labels are `__meta_nodewright_label_<key>`, for relabelling.
 */
export function scrapeTargets(nodes: Node[], kubeletVersionOf: (node: string) => string | null, source: FailureDomainSource): TargetGroup[] {
  return [...nodes]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((n) => {
      const url = new URL(n.url);
      const labels: Record<string, string> = { __scheme__: url.protocol.replace(/:$/, ''), node: n.name, group: n.group };
      const domain = failureDomainOf(n, source).failureDomain;
      if (domain !== null) labels.failure_domain = domain;
      const kubelet = kubeletVersionOf(n.name);
      if (kubelet) labels.kubelet_version = kubelet;
      for (const [k, v] of Object.entries(n.labels)) labels[`__meta_nodewright_label_${labelName(k)}`] = v;
      return { targets: [url.host], labels };
    });
}
