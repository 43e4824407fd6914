// nodewright nodes join-token | ls | show | remove | label (all with --json).
import type { Command } from 'commander';
import type { AgentStatus } from '../../protocol/status.js';
import { parseDuration, parseLabels } from '../fleet/join-token.js';
import { formatTable, out, printJson, withClient, withOperator, type OperatorOpts } from './operator.js';
import { fieldText as f } from './safe-text.js';

interface NodeView {
  name: string;
  group: string;
  state: string;
  reason: string | null;
  url: string;
  generation: number | null;
  labels: Record<string, string>;
  lastSeenAt: string | null;
  facts: { hostname: string; addresses: string[] };
  certNotAfter: string | null;
  certDaysLeft: number | null;
  failureDomain: string | null;
  failureDomainSource: string | null;
}

const certText = (n: NodeView) => (n.certDaysLeft === null || n.certDaysLeft === undefined ? '-' : String(n.certDaysLeft));

const domainText = (n: NodeView) => (n.failureDomain ? `${n.failureDomain} (${n.failureDomainSource})` : 'none (its own domain in a rollout)');

const labelText = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',') || '-';

export function registerNodesCommands(program: Command): void {
  const nodes = program.command('nodes').description('enrolled worker nodes');

  withOperator(
    nodes
      .command('join-token')
      .description('make a one-time join token for `nodewright-agent join` (stored hashed)')
      .requiredOption('--group <group>', 'node group the joining node belongs to')
      .option('--labels <k=v,...>', 'labels of the joining node')
      .option('--ttl <duration>', 'validity, e.g. 30m, 1h, 2d', '1h'),
  ).action(async (o: OperatorOpts & { group: string; labels?: string; ttl: string }) => {
    const body = { group: o.group, labels: parseLabels(o.labels), ttlSec: parseDuration(o.ttl, '--ttl') / 1000 };
    const r = await withClient(o, (c) => c.request<{ token: string; caCertHash: string; expiresAt: string }>('POST', '/v1/join-tokens', body));
    if (o.json) printJson({ token: r.token, caCertHash: r.caCertHash, expiresAt: r.expiresAt });
    else out(`token: ${r.token}\nca-cert-hash: ${r.caCertHash}\nexpires: ${r.expiresAt}\non the worker: NODEWRIGHT_JOIN_TOKEN=<token> nodewright-agent join --controller URL --ca-cert-hash ${r.caCertHash} --config-out /etc/nodewright/agent.yaml`);
  });

  withOperator(nodes.command('ls').description('list nodes with their health').option('--group <group>', 'only this group')).action(
    async (o: OperatorOpts & { group?: string }) => {
      const r = await withClient(o, (c) => c.request<{ nodes: NodeView[] }>('GET', `/v1/nodes${o.group ? `?group=${encodeURIComponent(o.group)}` : ''}`));
      if (o.json) return printJson(r.nodes);
      out(formatTable(['NAME', 'GROUP', 'STATE', 'GEN', 'DOMAIN', 'CERT-DAYS', 'URL', 'LABELS', 'REASON'], r.nodes.map((n) => [n.name, n.group, n.state, String(n.generation ?? '-'), n.failureDomain ?? '-', certText(n), n.url, labelText(n.labels), n.reason ?? ''])));
    },
  );

  withOperator(nodes.command('show <name>').description('one node: inventory record and last status')).action(async (name: string, o: OperatorOpts) => {
    const n = await withClient(o, (c) => c.request<NodeView & { status: AgentStatus | null }>('GET', `/v1/nodes/${encodeURIComponent(name)}`));
    if (o.json) return printJson(n);
    const failed = n.status?.cert?.lastRenewalError;
    out(`${f(n.name)}  group=${f(n.group)}  state=${f(n.state)}${n.reason ? ` (${f(n.reason)})` : ''}  generation=${n.generation ?? '-'}\n  url=${f(n.url)}  hostname=${f(n.facts.hostname)}  addresses=${f(n.facts.addresses.join(',')) || '-'}\n  labels=${f(labelText(n.labels))}  lastSeen=${f(n.lastSeenAt) || 'never'}\n  failure domain ${f(domainText(n))}\n  certificate until ${n.certNotAfter ?? 'unknown'} (${certText(n)} days left)${failed ? `\n  certificate renewal failed at ${f(failed.at)}: ${f(failed.code)}: ${f(failed.message)}` : ''}`);
  });

  withOperator(nodes.command('remove <name>').description('forget a node (it must join again with a new token)')).action(async (name: string, o: OperatorOpts) => {
    const r = await withClient(o, (c) => c.request<{ removed: string }>('DELETE', `/v1/nodes/${encodeURIComponent(name)}`));
    if (o.json) printJson(r);
    else out(`removed ${r.removed}`);
  });

  withOperator(nodes.command('label <name> <labels...>').description('set labels (k=v) or remove them (k-)')).action(async (name: string, specs: string[], o: OperatorOpts) => {
    const labels: Record<string, string | null> = {};
    for (const s of specs) {
      if (s.endsWith('-') && !s.includes('=')) labels[s.slice(0, -1)] = null;
      else Object.assign(labels, parseLabels(s));
    }
    const n = await withClient(o, (c) => c.request<NodeView>('PUT', `/v1/nodes/${encodeURIComponent(name)}/labels`, { labels }));
    if (o.json) printJson(n);
    else out(`${f(n.name)}: ${f(labelText(n.labels))}`);
  });
}
