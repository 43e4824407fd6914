// The waves strip of a rollout, bounded, PURE: a rollout of a few waves shows one box per wave;
// one of hundreds shows the waves that matter one by one (the active wave and its neighbours, the
// first failed ones) and folds every other run of waves into one box with a range: a run of pending
// waves, or one of waves the rollout moved past (done, and failed beyond those shown: the box is
// then failed, the worst state wins).

export type WaveState = 'done' | 'active' | 'pending' | 'failed';
export interface Wave { index: number; state: WaveState; nodes: number; done: number }
/** `from === to`: one wave (rendered with data-wave); else a folded run of one state. */
export interface WaveBox { from: number; to: number; state: WaveState; nodes: number; done: number }

/** Up to this many waves, every wave is its own box. */
export const STRIP_ALL = 20;
/** At most this many failed waves are shown one by one; more fold like the others. */
export const STRIP_FAILED = 20;

export function waveStrip(waves: readonly Wave[], all = STRIP_ALL): WaveBox[] {
  const box = (w: Wave): WaveBox => ({ from: w.index, to: w.index, state: w.state, nodes: w.nodes, done: w.done });
  if (waves.length <= all) return waves.map(box);
  const shown = new Set<number>();
  let failed = 0;
  waves.forEach((w, i) => {
    if (w.state === 'active') for (const j of [i - 1, i, i + 1]) shown.add(j);
    else if (w.state === 'failed' && failed++ < STRIP_FAILED) shown.add(i);
  });
  const kind = (st: WaveState) => (st === 'pending' ? 'pending' : 'past');
  const out: WaveBox[] = [];
  waves.forEach((w, i) => {
    const last = out[out.length - 1];
    if (shown.has(i)) out.push(box(w));
    else if (last && !shown.has(i - 1) && kind(last.state) === kind(w.state)) {
      last.to = w.index;
      last.nodes += w.nodes;
      last.done += w.done;
      if (w.state === 'failed') last.state = 'failed';
    } else out.push(box(w));
  });
  return out;
}
