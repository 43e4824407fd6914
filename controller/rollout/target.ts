// What a new rollout targets: the enrolled nodes named by a group, labels or names (exactly one),
// all in one node group, and the failure domain of each under the rollout's source. Read from the
// store; refusals are coded errors that say what to do.
import { NwError } from '../../host/errors.js';
import type { NodeRecord, Store } from '../store/store.js';
import { mappedDomains, type FailureDomainSource } from './domains.js';

export interface TargetRequest {
  group?: string;
  labels?: Record<string, string>;
  nodes?: string[];
}

export interface ResolvedTarget {
  /** For humans: "group workers", "labels zone=a", "nodes w1,w2". */
  target: string;
  nodes: NodeRecord[];
  failureDomainSource: FailureDomainSource;
  /** Each node's domain where the source maps it; the others are their own domain. */
  failureDomains: Record<string, string>;
}

export async function resolveTarget(store: Pick<Store, 'listNodes'>, b: TargetRequest, failureDomainSource: FailureDomainSource): Promise<ResolvedTarget> {
  const named = [b.group && 'group', b.labels && 'labels', b.nodes && 'nodes'].filter(Boolean);
  if (named.length !== 1) throw new NwError('NW_USAGE', 'name exactly one target: --group G, --labels k=v or --nodes a,b');
  const nodes = await store.listNodes(b.group ? { group: b.group } : b.labels ? { labels: b.labels } : { names: b.nodes });
  const target = b.group ? `group ${b.group}` : b.labels ? `labels ${Object.entries(b.labels).map(([k, v]) => `${k}=${v}`).join(',')}` : `nodes ${b.nodes!.join(',')}`;
  if (b.nodes) {
    const missing = b.nodes.filter((n) => !nodes.some((x) => x.name === n));
    if (missing.length) throw new NwError('NW_NOT_FOUND', `not enrolled: ${missing.join(', ')}; see \`nodewright nodes ls\``);
  }
  const groups = new Set(nodes.map((n) => n.group));
  if (groups.size > 1) throw new NwError('NW_USAGE', `the target spans node groups ${[...groups].join(', ')}: a rollout's bundles are bound to one group`);
  return { target, nodes, failureDomainSource, failureDomains: mappedDomains(nodes, failureDomainSource) };
}
