import { afterEach, describe, expect, test, vi } from 'vitest';
import { nextRun, parseCron, scheduleCron } from '../../../agent/cron.js';

// Local time throughout (the agent's schedule is the worker's wall clock).
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s);
const next = (expr: string, from: Date) => nextRun(parseCron(expr), from);

describe('cron (agent/cron.ts)', () => {
  afterEach(() => vi.useRealTimers());

  test('the defaults: every 5 and every 10 minutes, on the minute', () => {
    expect(next('*/5 * * * *', at(2026, 12, 2, 4, 52, 13))).toEqual(at(2026, 12, 2, 4, 55));
    expect(next('*/5 * * * *', at(2026, 12, 2, 4, 55))).toEqual(at(2026, 12, 2, 5, 0));
    expect(next('*/10 * * * *', at(2026, 12, 31, 23, 59, 59))).toEqual(at(2027, 1, 1, 0, 0));
  });

  test('ranges, lists, steps, names, seconds, Sunday as 0 or 7', () => {
    expect(next('0 9-17/4 * * mon-fri', at(2026, 12, 5, 12))).toEqual(at(2026, 12, 7, 9)); // Sat → Mon 09:00
    expect(next('15,45 * * * *', at(2026, 1, 1, 10, 15))).toEqual(at(2026, 1, 1, 10, 45));
    expect(next('30 */20 * * * *', at(2026, 1, 1, 10, 0, 31))).toEqual(at(2026, 1, 1, 10, 20, 30));
    expect(next('0 0 1 jan,jul *', at(2026, 2, 1))).toEqual(at(2026, 7, 1));
    expect(next('0 12 * * 7', at(2026, 12, 2))).toEqual(next('0 12 * * sun', at(2026, 12, 2)));
    expect(next('0 12 * * 0', at(2026, 12, 2))).toEqual(at(2026, 12, 6, 12));
  });

  test('both day fields restricted: either matches (Vixie cron)', () => {
    // the 13th or any Friday, whichever comes first after Tue 1 Dec 2026
    expect(next('0 0 13 * fri', at(2026, 12, 1))).toEqual(at(2026, 12, 4));
    expect(next('0 0 13 * *', at(2026, 12, 1))).toEqual(at(2026, 12, 13));
  });

  test('leap day found years ahead; an impossible date has no next run', () => {
    expect(next('0 0 29 2 *', at(2026, 3, 1))).toEqual(at(2028, 2, 29));
    expect(next('0 0 31 2 *', at(2026, 3, 1))).toBeNull();
  });

  test('bad expressions are NW_CONFIG with what is wrong', () => {
    for (const [expr, why] of [
      ['every minute', /5 fields/],
      ['61 * * * *', /minute "61" is out of range/],
      ['* * * * mon-xyz', /day of week "mon-xyz" is out of range/],
      ['*/0 * * * *', /zero step/],
      ['5-1 * * * *', /backwards range/],
      ['1#2 * * * *', /not a cron field/],
      ['* * * * * * *', /5 fields/],
    ] as const) {
      expect(() => parseCron(expr)).toThrow(why);
      try {
        parseCron(expr);
      } catch (e) {
        expect((e as { code: string }).code).toBe('NW_CONFIG');
      }
    }
  });

  test('scheduleCron fires at each match and stops', () => {
    vi.useFakeTimers();
    vi.setSystemTime(at(2026, 12, 2, 4, 52, 13));
    const fn = vi.fn();
    const task = scheduleCron('*/5 * * * *', fn);
    vi.advanceTimersByTime(2 * 60_000 + 46_000); // 04:54:59
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000); // 04:55:00
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * 60_000); // 05:00, 05:05
    expect(fn).toHaveBeenCalledTimes(3);
    task.stop();
    vi.advanceTimersByTime(60 * 60_000);
    expect(fn).toHaveBeenCalledTimes(3);
  });
});
