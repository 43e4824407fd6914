/** A node that is finished in its rollout (nothing more will happen to it). */
export const isSettled = (n) => n.phase === 'healthy' || n.phase === 'skipped' || n.phase === 'rolled_back' || n.phase === 'failed';
/** A rollout that will never act again. */
export const isFinished = (s) => s.state === 'completed' || s.state === 'aborted';
export function summarize(s) {
    let done = 0;
    for (const n of s.nodes)
        if (isSettled(n))
            done++;
    return {
        id: s.id, state: s.state, reason: s.reason, target: s.target, wave: s.wave, waveCount: s.waveCount,
        nodes: s.nodes.length, done, failures: s.failures, createdAt: s.createdAt, updatedAt: s.updatedAt,
    };
}
