// http_sd target groups: one per enrolled node, its metrics endpoint and the labels alerts slice by.
import { describe, expect, it } from 'vitest';
import { scrapeTargets } from '../../../controller/fleet/scrape-targets.js';

const node = (name: string, o: { url?: string; labels?: Record<string, string>; hypervisor?: string } = {}) => ({
  name, group: 'workers', url: o.url ?? `https://10.0.0.${name.slice(1)}:9443`, labels: o.labels ?? {},
  hypervisor: o.hypervisor ?? null, hypervisorRule: o.hypervisor ? ('instance-uuid' as const) : null,
});

describe('scrapeTargets', () => {
  it('one group per node, sorted, host:port of its URL, node/group/kubelet labels; unknown ones left out', () => {
    const versions: Record<string, string> = { w1: 'v1.10.13' };
    const groups = scrapeTargets([node('w2'), node('w1')], (n) => versions[n] ?? null, 'none');
    expect(groups).toEqual([
      { targets: ['10.0.0.1:9443'], labels: { __scheme__: 'https', node: 'w1', group: 'workers', kubelet_version: 'v1.10.13' } },
      { targets: ['10.0.0.2:9443'], labels: { __scheme__: 'https', node: 'w2', group: 'workers' } },
    ]);
  });

  it('failure_domain under the configured source; node labels as __meta_nodewright_label_<key> with a valid name', () => {
    const nodes = [node('w1', { hypervisor: 'cmp-a', labels: { 'topology.rack': 'r7' } }), node('w2', { labels: { 'topology.rack': 'r8' } })];
    const byHypervisor = scrapeTargets(nodes, () => null, 'hypervisor');
    expect(byHypervisor[0].labels).toMatchObject({ failure_domain: 'cmp-a', __meta_nodewright_label_topology_rack: 'r7' });
    expect(byHypervisor[1].labels.failure_domain).toBeUndefined();
    expect(scrapeTargets(nodes, () => null, 'label:topology.rack').map((g) => g.labels.failure_domain)).toEqual(['r7', 'r8']);
    for (const g of byHypervisor) for (const k of Object.keys(g.labels)) expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
  });

  it('an IPv6 agent address stays bracketed; no nodes → an empty list (Prometheus drops every target)', () => {
    expect(scrapeTargets([node('w1', { url: 'https://[fd00::5]:9443' })], () => null, 'none')[0].targets).toEqual(['[fd00::5]:9443']);
    expect(scrapeTargets([], () => null, 'none')).toEqual([]);
  });
});
