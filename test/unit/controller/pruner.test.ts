// The retention pass on its timer: once at start, a backlog drained a second apart, then every
// interval; a failing pass is logged and retried; stop() ends it.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pruner } from '../../../controller/pruner.js';
import { DEFAULT_RETENTION, type PruneReport } from '../../../controller/store/retention.js';

const report = (over: Partial<PruneReport> = {}): PruneReport => ({ events: 0, desired: 0, keyrings: 0, rolloutDetails: 0, rollouts: 0, joinTokens: 0, uiLoginCodes: 0, uiSessions: 0, more: false, ...over });

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('Pruner', () => {
  it('prunes at start, drains a backlog a second apart, then waits the interval', async () => {
    const answers = [report({ events: 5000, more: true }), report({ events: 10 }), report()];
    const prune = vi.fn(async () => answers.shift() ?? report());
    const p = new Pruner({ store: { prune }, policy: DEFAULT_RETENTION, intervalMs: 3_600_000, log: pino({ level: 'silent' }), now: () => '2026-12-01T00:00:00.000Z' });
    p.start();
    expect(prune).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(prune).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3_599_000);
    expect(prune).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(prune).toHaveBeenCalledTimes(3);
    p.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(prune).toHaveBeenCalledTimes(3);
  });

  it('a failing pass is logged and tried again at the next interval', async () => {
    const prune = vi.fn(async () => {
      throw new Error('disk I/O error');
    });
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const p = new Pruner({ store: { prune }, policy: DEFAULT_RETENTION, intervalMs: 60_000, log, now: () => '2026-12-01T00:00:00.000Z' });
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.join('')).toContain('disk I/O error');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(prune).toHaveBeenCalledTimes(2);
    p.stop();
  });
  it('with blobs in the database, each pass also sweeps uploads abandoned over an hour ago', async () => {
    const sweep = vi.fn(async () => 3);
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const p = new Pruner({ store: { prune: async () => report() }, blobs: { sweep }, policy: DEFAULT_RETENTION, intervalMs: 60_000, log, now: () => '2026-12-01T02:00:00.000Z' });
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sweep).toHaveBeenCalledWith(Date.parse('2026-12-01T01:00:00.000Z'));
    expect(lines.join('')).toContain('"uploadChunks":3');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sweep).toHaveBeenCalledTimes(2);
    p.stop();
  });
});
