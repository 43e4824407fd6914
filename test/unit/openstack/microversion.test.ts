import { describe, expect, it } from 'vitest';
import {
  CLIENT_MAX_MICROVERSION, compareMicroversions, negotiateMicroversion, requireMicroversion, versionRangeFromDocument,
} from '../../../openstack/microversion.js';
import { fixture } from './fake-cloud.js';

describe('microversions', () => {
  it('reads the range from the endpoint and the root version documents (recorded from Nova Zed)', () => {
    expect(versionRangeFromDocument(fixture('v2.1-root.json'))).toEqual({ min: '2.1', max: '2.93' });
    expect(versionRangeFromDocument(fixture('versions.json'))).toEqual({ min: '2.1', max: '2.93' });
    expect(versionRangeFromDocument({})).toBeUndefined();
  });

  it('compares numerically, not as strings', () => {
    expect(compareMicroversions('2.9', '2.53')).toBeLessThan(0);
    expect(compareMicroversions('2.67', '2.67')).toBe(0);
  });

  it('uses the highest version both sides support', () => {
    expect(negotiateMicroversion({ min: '2.1', max: '2.93' })).toBe(CLIENT_MAX_MICROVERSION);
    expect(negotiateMicroversion({ min: '2.1', max: '2.60' })).toBe('2.60');
    expect(negotiateMicroversion({ min: '2.1', max: '2.200' })).toBe(CLIENT_MAX_MICROVERSION);
    expect(negotiateMicroversion({ min: '2.1', max: '2.93' }, 'latest')).toBe(CLIENT_MAX_MICROVERSION);
  });

  it('honours a requested version inside the range and refuses one outside', () => {
    expect(negotiateMicroversion({ min: '2.1', max: '2.93' }, '2.66')).toBe('2.66');
    expect(() => negotiateMicroversion({ min: '2.1', max: '2.60' }, '2.67')).toThrow(expect.objectContaining({ code: 'NW_MICROVERSION' }));
    expect(() => negotiateMicroversion({ min: '2.1', max: '2.93' }, 'two')).toThrow(expect.objectContaining({ code: 'NW_MICROVERSION' }));
    expect(() => negotiateMicroversion({ min: '2.0', max: '2.0' })).toThrow(/legacy v2.0/);
  });

  it('a feature below its minimum fails clearly', () => {
    expect(() => requireMicroversion('2.66', '2.67', 'boot with --volume-type')).toThrow(/boot with --volume-type needs compute microversion 2.67 or later, but this session uses 2.66/);
    expect(() => requireMicroversion('2.67', '2.67', 'x')).not.toThrow();
  });
});
