import { describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, redirectTarget } from '../../../host/redirect.js';

const from = new URL('https://10.0.0.1:7700/v1/rollouts?x=1');

describe('redirectTarget (a follower names the leader)', () => {
  it('follows 307 and 308 to an absolute or relative https Location; anything else is not a redirect', () => {
    expect(redirectTarget(from, 307, 'https://10.0.0.2:7700/v1/rollouts?x=1', 0)?.href).toBe('https://10.0.0.2:7700/v1/rollouts?x=1');
    expect(redirectTarget(from, 308, ['https://b:7700/v1/rollouts'], 1)?.href).toBe('https://b:7700/v1/rollouts');
    expect(redirectTarget(from, 307, '/v1/other', 0)?.href).toBe('https://10.0.0.1:7700/v1/other');
    for (const status of [200, 301, 302, 303, 404, 503]) expect(redirectTarget(from, status, 'https://b/', 0)).toBeNull();
  });

  it(`refuses http, a missing Location and more than ${MAX_REDIRECTS} hops, with coded errors`, () => {
    expect(() => redirectTarget(from, 307, 'http://10.0.0.2:7700/v1/rollouts', 0)).toThrow(expect.objectContaining({ code: 'NW_TLS' }));
    expect(() => redirectTarget(from, 307, undefined, 0)).toThrow(expect.objectContaining({ code: 'NW_PUSH', message: expect.stringContaining('without a Location') }));
    expect(() => redirectTarget(from, 307, 'https://b/', MAX_REDIRECTS)).toThrow(expect.objectContaining({ code: 'NW_PUSH', message: expect.stringContaining('controller status') }));
    expect(() => redirectTarget(from, 307, 'https://[bad', 0)).toThrow(expect.objectContaining({ code: 'NW_PUSH' }));
  });
});
