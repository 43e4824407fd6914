import { describe, expect, it } from 'vitest';
import { failureDomainOf, parseFailureDomainSource } from '../../../controller/rollout/domains.js';

const node = { labels: { 'topology.kubernetes.io/zone': 'az1' }, hypervisor: 'compute-a', hypervisorRule: 'instance-uuid' as const };

describe('failure domains', () => {
  it('by source: hypervisor with its rule, a label, none', () => {
    expect(failureDomainOf(node, 'hypervisor')).toEqual({ failureDomain: 'compute-a', failureDomainSource: 'instance-uuid' });
    expect(failureDomainOf(node, 'label:topology.kubernetes.io/zone')).toEqual({ failureDomain: 'az1', failureDomainSource: 'label:topology.kubernetes.io/zone' });
    expect(failureDomainOf(node, 'none')).toEqual({ failureDomain: null, failureDomainSource: null });
  });
  it('unmapped: no hypervisor, a missing label', () => {
    expect(failureDomainOf({ labels: {}, hypervisor: null }, 'hypervisor')).toEqual({ failureDomain: null, failureDomainSource: null });
    expect(failureDomainOf(node, 'label:rack')).toEqual({ failureDomain: null, failureDomainSource: null });
  });
  it('parses the flag, refuses anything else with NW_USAGE', () => {
    expect(parseFailureDomainSource('label:topology.kubernetes.io/zone')).toBe('label:topology.kubernetes.io/zone');
    expect(parseFailureDomainSource('none')).toBe('none');
    for (const bad of ['label:', 'zone', 'label:a b', 'HYPERVISOR']) expect(() => parseFailureDomainSource(bad)).toThrow(/NW_USAGE|use hypervisor/);
  });
});
