const DAY_MS = 86_400_000;
export const DEFAULT_RETENTION = {
    eventsMaxAgeMs: 90 * DAY_MS,
    eventsMaxCount: 1_000_000,
    generationsPerNode: 10,
    rolloutDetailMaxAgeMs: 7 * DAY_MS,
    rolloutDetailCount: 20,
    rolloutSummaryCount: 1000,
    batch: 5000,
};
/** node → generations an active rollout may still push or roll back to. */
export function pinnedGenerations(active) {
    const pins = new Map();
    for (const s of active) {
        for (const n of s.nodes) {
            let g = pins.get(n.name);
            if (!g)
                pins.set(n.name, (g = new Set()));
            for (const x of [n.baseGeneration, n.previousGeneration, n.targetGeneration, n.rollbackGeneration])
                if (x !== null)
                    g.add(x);
        }
    }
    return pins;
}
