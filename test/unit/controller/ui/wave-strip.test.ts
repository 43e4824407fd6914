// The waves strip stays a handful of boxes at hundreds of waves: the active wave, its neighbours
// and failed waves one by one, every other run of done or pending waves folded with its range.
import { describe, expect, it } from 'vitest';
import type { WaveState } from '../../../../controller/ui/rollout-model.js';
import { waveStrip, type Wave } from '../../../../controller/ui/wave-strip.js';

const waves = (states: WaveState[]): Wave[] => states.map((state, index) => ({ index, state, nodes: 25, done: state === 'done' ? 25 : 0 }));
const boxes = (w: Wave[]) => waveStrip(w).map((b) => (b.from === b.to ? `${b.from}:${b.state}` : `${b.from}-${b.to}:${b.state}`));

describe('waveStrip', () => {
  it('up to 20 waves: one box each, nothing folded', () => {
    expect(boxes(waves(['done', 'done', 'active', 'pending', 'pending']))).toEqual(['0:done', '1:done', '2:active', '3:pending', '4:pending']);
    expect(waveStrip(waves(Array(20).fill('pending')))).toHaveLength(20);
  });

  it('200 waves: the done run and the pending run folded, the active wave and its neighbours alone, node counts summed', () => {
    const w = waves([...Array(100).fill('done'), 'active', ...Array(99).fill('pending')]);
    expect(boxes(w)).toEqual(['0-98:done', '99:done', '100:active', '101:pending', '102-199:pending']);
    expect(waveStrip(w)[0]).toEqual({ from: 0, to: 98, state: 'done', nodes: 99 * 25, done: 99 * 25 });
  });

  it('failed waves stay visible between folded runs; a finished rollout of 300 waves is one box', () => {
    const states: WaveState[] = Array(200).fill('done');
    states[10] = 'failed';
    states[150] = 'failed';
    states[160] = 'active';
    states.fill('pending', 161);
    expect(boxes(waves(states))).toEqual(['0-9:done', '10:failed', '11-149:done', '150:failed', '151-158:done', '159:done', '160:active', '161:pending', '162-199:pending']);
    expect(boxes(waves(Array(300).fill('done')))).toEqual(['0-299:done']);
  });

  it('bounded however many waves failed: beyond 20 failed waves they fold too', () => {
    const states: WaveState[] = Array.from({ length: 500 }, (_, i) => (i % 2 ? 'failed' : 'done'));
    const strip = waveStrip(waves(states));
    expect(strip.filter((b) => b.from === b.to && b.state === 'failed')).toHaveLength(20);
    expect(strip.length).toBeLessThanOrEqual(41);
    expect(strip.at(-1)).toMatchObject({ from: 40, to: 499, state: 'failed' }); // the rest: one box, the worst state
  });
});
