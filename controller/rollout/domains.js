// Failure domains (pure): what a rollout keeps apart. `hypervisor` is the Nova compute host the
// controller mapped the worker to; `label:KEY` is the value of a node label (e.g.
// topology.kubernetes.io/zone); `none` makes every node its own domain. A node without a domain
// under the chosen source is "unmapped".
import { NwError } from '../../host/errors.js';
export function parseFailureDomainSource(s, where = '--failure-domain') {
    if (s === 'hypervisor' || s === 'none')
        return s;
    if (/^label:[A-Za-z0-9][A-Za-z0-9._/-]{0,315}$/.test(s))
        return s;
    throw new NwError('NW_USAGE', `${where} "${s}": use hypervisor, label:KEY (e.g. label:topology.kubernetes.io/zone) or none`);
}
export function failureDomainOf(n, source) {
    if (source === 'hypervisor')
        return n.hypervisor ? { failureDomain: n.hypervisor, failureDomainSource: n.hypervisorRule ?? null } : { failureDomain: null, failureDomainSource: null };
    if (source === 'none')
        return { failureDomain: null, failureDomainSource: null };
    const v = n.labels[source.slice('label:'.length)];
    return v ? { failureDomain: v, failureDomainSource: source } : { failureDomain: null, failureDomainSource: null };
}
/** The failure domain of each node the source maps (a rollout's `failureDomains`); unmapped nodes are left out. */
export function mappedDomains(nodes, source) {
    const out = {};
    for (const n of nodes) {
        const d = failureDomainOf(n, source).failureDomain;
        if (d !== null)
            out[n.name] = d;
    }
    return out;
}
