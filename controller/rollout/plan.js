// Hypervisor-aware wave planner (pure). Given workers, their failure domain (the hypervisor
// they run on) and a ramp like [1, 5, "20%"] (the last step repeats), it cuts the fleet into
// waves so that no wave ever holds two workers of one failure domain: a bad change cannot take
// out every worker behind one physical host at once. Each wave is as full as that rule allows,
// and every wave that is smaller than its ramp step says why.
import { NwError } from '../../host/errors.js';
export function parseRamp(spec) {
    const steps = spec.split(',').map((s) => s.trim()).filter(Boolean);
    return steps.map((s) => (s.endsWith('%') ? s : Number(s)));
}
/** The node count a ramp step asks for, out of `total` nodes (percentages round up, at least 1). */
export function stepSize(step, total) {
    if (typeof step === 'number') {
        if (!Number.isInteger(step) || step < 1)
            throw new NwError('NW_ROLLOUT', `ramp step ${step} must be a whole number ≥ 1 or a percentage like "20%"`);
        return step;
    }
    const pct = Number(step.slice(0, -1));
    if (!/^\d+(\.\d+)?%$/.test(step) || !(pct > 0 && pct <= 100)) {
        throw new NwError('NW_ROLLOUT', `ramp step "${step}" must be a percentage in (0, 100]`);
    }
    return Math.max(1, Math.ceil((pct * total) / 100));
}
export function planWaves(nodes, ramp) {
    if (ramp.length === 0)
        throw new NwError('NW_ROLLOUT', 'the ramp is empty; give at least one step, e.g. [1, 5, "20%"]');
    const total = nodes.length;
    ramp.forEach((s) => stepSize(s, Math.max(total, 1))); // validate every step up front
    const seen = new Set();
    for (const n of nodes) {
        if (seen.has(n.name))
            throw new NwError('NW_ROLLOUT', `node ${n.name} appears twice; each worker must be listed once`);
        seen.add(n.name);
    }
    // queue per failure domain, in input order
    const queues = new Map();
    for (const n of nodes) {
        const q = queues.get(n.failureDomain);
        if (q)
            q.push(n);
        else
            queues.set(n.failureDomain, [n]);
    }
    const waves = [];
    const shortfalls = [];
    let remaining = total;
    while (remaining > 0) {
        const i = waves.length;
        const step = ramp[Math.min(i, ramp.length - 1)];
        const target = stepSize(step, total);
        // Take from the domains with the most workers left first: that keeps later waves full
        // (fewest waves overall). Ties: domain name, for a deterministic plan.
        const domains = [...queues.entries()]
            .filter(([, q]) => q.length > 0)
            .sort(([a, qa], [b, qb]) => qb.length - qa.length || (a < b ? -1 : a > b ? 1 : 0));
        const wanted = Math.min(target, remaining); // the last wave may simply have fewer workers left
        const wave = domains.slice(0, Math.min(wanted, domains.length)).map(([, q]) => q.shift());
        remaining -= wave.length;
        waves.push({ index: i, target, nodes: wave });
        if (wave.length < wanted) {
            shortfalls.push({
                wave: i,
                step,
                target,
                planned: wave.length,
                reason: `only ${domains.length} failure domain(s) still have workers, and a wave takes at most one worker per failure domain`,
            });
        }
    }
    return { waves, shortfalls };
}
