import { describe, expect, it } from 'vitest';
import { strategyFromFlags } from '../../../controller/commands/rollout.js';
import { DEFAULT_STRATEGY, maxUnavailableOf, parseDuration, parseStrategy, resolveCount, strategyFromYaml } from '../../../controller/rollout/strategy.js';
import { insideWindows, nextWindowOpening, parseWindow } from '../../../controller/rollout/window.js';
import { NwError } from '../../../host/errors.js';

const usageError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    expect((e as NwError).code).toBe('NW_USAGE');
    return (e as NwError).message;
  }
  throw new Error('expected NW_USAGE');
};

describe('strategy', () => {
  it('has safe defaults', () => {
    expect(parseStrategy()).toEqual({
      steps: [1, 5, '20%'], maxUnavailable: 1, maxUnavailablePerDomain: 1, failureBudget: 0, onFailure: 'pause',
      minHealthyMs: 30_000, gateTimeoutMs: 300_000, soakMs: 0, windows: [], autoRollback: true,
      gates: [], gateFailure: 'wait', gateWaitTimeoutMs: 3_600_000,
    });
    expect(parseStrategy()).toEqual(DEFAULT_STRATEGY);
  });

  it('parses flags', () => {
    const s = parseStrategy({
      steps: '1,2,50%', maxUnavailable: '2', failureBudget: '10%', onFailure: 'skip', minHealthy: '1m30s',
      gateTimeout: '10m', soak: '45s', windows: ['Sat,Sun 00:00-00:00 UTC'], autoRollback: false,
    });
    expect(s).toMatchObject({ steps: [1, 2, '50%'], maxUnavailable: 2, failureBudget: '10%', onFailure: 'skip', minHealthyMs: 90_000, gateTimeoutMs: 600_000, soakMs: 45_000, autoRollback: false });
    expect(s.windows[0]).toMatchObject({ days: [0, 6], start: 0, end: 0, timeZone: 'UTC' });
  });

  it('parses durations', () => {
    expect(parseDuration('x', '250ms')).toBe(250);
    expect(parseDuration('x', '2h')).toBe(7_200_000);
    expect(parseDuration('x', '30')).toBe(30_000);
    expect(parseDuration('x', 1.5)).toBe(1500);
    for (const bad of ['', '5 m', '5x', 'm5', '-1s', '1s2']) usageError(() => parseDuration('minHealthy', bad));
  });

  it('resolves counts and percentages: budgets round down, maxUnavailable never below 1', () => {
    expect(resolveCount('10%', 25)).toBe(2);
    expect(resolveCount(3, 25)).toBe(3);
    expect(maxUnavailableOf(parseStrategy({ maxUnavailable: '10%' }), 5)).toBe(1);
    expect(maxUnavailableOf(parseStrategy({ maxUnavailable: '50%' }), 10)).toBe(5);
  });

  it('refuses bad input with NW_USAGE naming the field', () => {
    expect(usageError(() => parseStrategy({ steps: '0,5' }))).toMatch(/steps/);
    expect(usageError(() => parseStrategy({ steps: '' }))).toMatch(/steps/);
    expect(usageError(() => parseStrategy({ maxUnavailable: '0' }))).toMatch(/maxUnavailable/);
    expect(usageError(() => parseStrategy({ maxUnavailable: '0%' }))).toMatch(/maxUnavailable/);
    expect(usageError(() => parseStrategy({ failureBudget: '-1' }))).toMatch(/failureBudget/);
    expect(usageError(() => parseStrategy({ failureBudget: '120%' }))).toMatch(/failureBudget/);
    expect(usageError(() => parseStrategy({ onFailure: 'retry' }))).toMatch(/onFailure/);
    expect(usageError(() => parseStrategy({ minHealthy: '5m', gateTimeout: '1m' }))).toMatch(/gateTimeout/);
    expect(usageError(() => parseStrategy({ windows: 'Funday 10:00-11:00' }))).toMatch(/Funday/);
  });

  it('reads the YAML block and refuses unknown keys and wrong types', () => {
    const s = strategyFromYaml({ steps: [1, '50%'], failureBudget: 1, onFailure: 'halt', minHealthy: '10s', windows: 'Mon-Fri 22:00-04:00 Europe/Berlin' });
    expect(s).toMatchObject({ steps: [1, '50%'], failureBudget: 1, onFailure: 'halt', minHealthyMs: 10_000 });
    expect(s.windows).toHaveLength(1);
    expect(strategyFromYaml(undefined)).toEqual(DEFAULT_STRATEGY);
    expect(usageError(() => strategyFromYaml({ maxUnavailble: 2 }))).toMatch(/maxUnavailble/);
    expect(usageError(() => strategyFromYaml({ steps: [1, 'x'] }))).toMatch(/steps/);
    expect(usageError(() => strategyFromYaml({ minHealthy: { s: 1 } }))).toMatch(/minHealthy/);
    expect(usageError(() => strategyFromYaml({ windows: [1] }))).toMatch(/windows/);
    expect(usageError(() => strategyFromYaml({ autoRollback: 'yes' }))).toMatch(/autoRollback/);
    expect(usageError(() => strategyFromYaml([1]))).toMatch(/mapping/);
  });
});

describe('strategy: failure domains', () => {
  it('leaves the source to the controller when absent, and limits one node per domain by default', () => {
    const s = parseStrategy();
    expect(s.failureDomain).toBeUndefined();
    expect('failureDomain' in s).toBe(false);
    expect(s.maxUnavailablePerDomain).toBe(1);
  });

  it('parses the source and the per-domain limit from flags and YAML', () => {
    expect(parseStrategy({ failureDomain: 'hypervisor', maxUnavailablePerDomain: '2' })).toMatchObject({ failureDomain: 'hypervisor', maxUnavailablePerDomain: 2 });
    expect(parseStrategy({ failureDomain: 'label:topology.kubernetes.io/zone' }).failureDomain).toBe('label:topology.kubernetes.io/zone');
    expect(strategyFromYaml({ failureDomain: 'none', maxUnavailablePerDomain: 3 })).toMatchObject({ failureDomain: 'none', maxUnavailablePerDomain: 3 });
  });

  it('refuses bad values with NW_USAGE naming the key', () => {
    for (const bad of ['rack', 'label:', 'label:-x', 'Hypervisor', '']) expect(usageError(() => parseStrategy({ failureDomain: bad }))).toMatch(/failureDomain/);
    for (const bad of ['0', '-1', '1.5', '50%', 'two']) expect(usageError(() => parseStrategy({ maxUnavailablePerDomain: bad }))).toMatch(/maxUnavailablePerDomain/);
    expect(usageError(() => strategyFromYaml({ failureDomain: 5 }))).toMatch(/failureDomain/);
    expect(usageError(() => strategyFromYaml({ maxUnavailablePerDomain: 0 }))).toMatch(/maxUnavailablePerDomain/);
    expect(usageError(() => strategyFromYaml({ failureDomian: 'none' }))).toMatch(/failureDomian/);
  });

  it('rollout start flags: --failure-domain and --max-unavailable-per-domain, bad values naming the flag', () => {
    expect(strategyFromFlags({ failureDomain: 'label:zone', maxUnavailablePerDomain: '2', steps: '2' })).toEqual({ failureDomain: 'label:zone', maxUnavailablePerDomain: 2, steps: '2' });
    expect(strategyFromFlags({})).toEqual({});
    expect(strategyFromFlags({ autoRollback: false })).toEqual({ autoRollback: false });
    for (const bad of ['zone', 'label:', 'hypervisors']) expect(usageError(() => strategyFromFlags({ failureDomain: bad }))).toMatch(/--failure-domain/);
    for (const bad of ['0', '1.5', 'x', '10%']) expect(usageError(() => strategyFromFlags({ maxUnavailablePerDomain: bad }))).toMatch(/--max-unavailable-per-domain/);
  });
});

describe('maintenance windows', () => {
  const berlin = parseWindow('Mon-Fri 22:00-04:00 Europe/Berlin');

  it('parses days, ranges that wrap and the time zone', () => {
    expect(berlin).toMatchObject({ days: [1, 2, 3, 4, 5], start: 22 * 60, end: 4 * 60, timeZone: 'Europe/Berlin' });
    expect(parseWindow('Fri-Mon 01:00-02:00').days).toEqual([0, 1, 5, 6]);
    expect(parseWindow('daily 09:00-17:00 America/New_York').days).toHaveLength(7);
    for (const bad of ['Mon 25:00-26:00 UTC', 'Mon 10:00 UTC', 'Mon 10:00-11:00 Mars/Olympus', 'M 10:00-11:00', 'Mon-Tue-Wed 10:00-11:00', 'x']) {
      usageError(() => parseWindow(bad));
    }
  });

  it('is open across midnight from the opening day, in local time (CET = UTC+1 in December)', () => {
    // 2026-12-04 is a Friday
    expect(insideWindows([berlin], '2026-12-04T20:59:00Z')).toBe(false); // Fri 21:59 Berlin
    expect(insideWindows([berlin], '2026-12-04T21:00:00Z')).toBe(true); // Fri 22:00
    expect(insideWindows([berlin], '2026-12-05T02:59:00Z')).toBe(true); // Sat 03:59: the Friday window
    expect(insideWindows([berlin], '2026-12-05T03:00:00Z')).toBe(false); // Sat 04:00
    expect(insideWindows([berlin], '2026-12-05T21:30:00Z')).toBe(false); // Sat 22:30: no Saturday window
    expect(insideWindows([berlin], '2026-12-07T01:00:00Z')).toBe(false); // Mon 02:00 belongs to Sunday: closed
    expect(insideWindows([], '2026-12-07T01:00:00Z')).toBe(true); // no windows: always
  });

  it('follows daylight saving time (CEST = UTC+2 in July)', () => {
    expect(insideWindows([berlin], '2026-07-01T20:00:00Z')).toBe(true); // Wed 22:00 CEST
    expect(insideWindows([berlin], '2026-07-01T19:59:00Z')).toBe(false);
  });

  it('any of several windows opens', () => {
    const w = [berlin, parseWindow('Sat 10:00-12:00 UTC')];
    expect(insideWindows(w, '2026-12-05T11:00:00Z')).toBe(true);
    expect(insideWindows(w, '2026-12-05T12:00:00Z')).toBe(false);
  });

  it('finds the next opening as an absolute time', () => {
    expect(nextWindowOpening([berlin], '2026-12-05T12:00:00.000Z')).toBe('2026-12-07T21:00:00.000Z'); // Sat → Mon 22:00 CET
    expect(nextWindowOpening([berlin], '2026-12-04T22:00:00.000Z')).toBe('2026-12-04T22:00:00.000Z'); // open now
    expect(nextWindowOpening([berlin, parseWindow('Sun 08:00-09:00 UTC')], '2026-12-05T12:00:00.000Z')).toBe('2026-12-06T08:00:00.000Z');
    expect(nextWindowOpening([berlin], '2026-03-27T12:00:00.000Z')).toBe('2026-03-27T21:00:00.000Z'); // Fri before DST: CET
    expect(nextWindowOpening([berlin], '2026-03-28T12:00:00.000Z')).toBe('2026-03-30T20:00:00.000Z'); // Mon after DST: CEST
  });
});
