import { describe, expect, test } from 'vitest';
import { applySignOverrides, resolveNotAfter } from '../../../controller/sign-overrides.js';
import { parseDesiredState } from '../../../protocol/desired.js';

const now = new Date('2026-12-01T12:00:00Z');
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'ok';
};

describe('bundle sign overrides', () => {
  test('--not-after: durations from now, instants in any offset, signed as UTC', () => {
    expect(resolveNotAfter('24h', now)).toBe('2026-12-02T12:00:00Z');
    expect(resolveNotAfter('1h30m', now)).toBe('2026-12-01T13:30:00Z');
    expect(resolveNotAfter('7d', now)).toBe('2026-12-08T12:00:00Z');
    expect(resolveNotAfter('90s', now)).toBe('2026-12-01T12:01:30Z');
    expect(resolveNotAfter('1m', new Date('2026-12-01T12:00:00.700Z'))).toBe('2026-12-01T12:01:00Z');
    expect(resolveNotAfter('2026-12-31T23:59:59Z', now)).toBe('2026-12-31T23:59:59Z');
    expect(resolveNotAfter('2027-01-01T01:00:00+01:00', now)).toBe('2027-01-01T00:00:00Z');
    expect(resolveNotAfter('2026-12-01T12:00:00.250Z', now)).toBe('2026-12-01T12:00:00.250Z');
  });

  test('--not-after: garbage, impossible dates and the past are NW_USAGE', () => {
    for (const bad of ['tomorrow', '24', 'h', '1w', '2026-12-31', '2026-02-30T00:00:00Z', '2026-12-31T25:00:00Z', '2026-12-01T11:00:00Z', '0s']) {
      expect(codeOf(() => resolveNotAfter(bad, now)), bad).toBe('NW_USAGE');
    }
  });

  test('every override lands in the desired state, which then validates', () => {
    const d = applySignOverrides({ schema: 1, generation: 1, nodeGroup: 'old' }, { generation: '42', notAfter: '2h', nodeGroup: 'workers-b', nodes: 'w1, w2,,w1' }, now);
    expect(d).toEqual({ schema: 1, generation: 42, nodeGroup: 'workers-b', notAfter: '2026-12-01T14:00:00Z', nodes: ['w1', 'w2'] });
    expect(parseDesiredState(d).generation).toBe(42);
  });

  test('no overrides: the input is returned as it is; bad overrides are NW_USAGE', () => {
    const d = { schema: 1, generation: 3 };
    expect(applySignOverrides(d, {}, now)).toBe(d);
    expect(codeOf(() => applySignOverrides(d, { generation: '0' }, now))).toBe('NW_USAGE');
    expect(codeOf(() => applySignOverrides(d, { generation: '1.5' }, now))).toBe('NW_USAGE');
    expect(codeOf(() => applySignOverrides(d, { generation: '99999999999999999' }, now))).toBe('NW_USAGE');
    expect(codeOf(() => applySignOverrides(d, { nodes: ' , ' }, now))).toBe('NW_USAGE');
    expect(codeOf(() => applySignOverrides(['x'], { generation: '2' }, now))).toBe('NW_BUNDLE');
  });
});
