// When the agent renews its certificate, how it backs off, and where its join token comes from.
import { describe, expect, it } from 'vitest';
import { renewalDue, retryDelay } from '../../../agent/cert-renewal.js';
import { joinTokenFrom } from '../../../agent/commands/join.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../tmp.js';

describe('certificate renewal timing', () => {
  it('renews at 2/3 of the lifetime', () => {
    expect(renewalDue(0, 300)).toBe(200);
    expect(renewalDue(1_000, 1_000 + 365 * 86_400_000)).toBe(1_000 + Math.floor((365 * 86_400_000 * 2) / 3));
  });

  it('backs off 5 s doubling to 5 min, never past a tenth of the time left, never under 1 s', () => {
    const long = 100 * 86_400_000;
    expect([1, 2, 3, 4, 7, 8, 20].map((f) => retryDelay(f, long))).toEqual([5_000, 10_000, 20_000, 40_000, 300_000, 300_000, 300_000]);
    expect(retryDelay(5, 60_000)).toBe(6_000);
    expect(retryDelay(1, 2_000)).toBe(1_000);
    expect(retryDelay(3, -5_000)).toBe(1_000);
  });
});

describe('the join token', () => {
  it('comes from --token-file, NODEWRIGHT_JOIN_TOKEN or --token, exactly one of them', () => {
    const f = path.join(tempDir('nw-token-'), 'token');
    writeFileSync(f, 'abcdef.0123456789abcdef\n', { mode: 0o600 });
    expect(joinTokenFrom({ tokenFile: f }, {})).toBe('abcdef.0123456789abcdef');
    expect(joinTokenFrom({}, { NODEWRIGHT_JOIN_TOKEN: 'abcdef.0123456789abcdef' })).toBe('abcdef.0123456789abcdef');
    expect(joinTokenFrom({ token: 'abcdef.0123456789abcdef' }, {})).toBe('abcdef.0123456789abcdef');
    expect(() => joinTokenFrom({}, {})).toThrow(/NW_USAGE|missing/);
    expect(() => joinTokenFrom({}, {})).toThrowError(expect.objectContaining({ code: 'NW_USAGE' }));
    expect(() => joinTokenFrom({ tokenFile: f, token: 'x' }, {})).toThrowError(expect.objectContaining({ code: 'NW_USAGE' }));
    expect(() => joinTokenFrom({ token: 'x' }, { NODEWRIGHT_JOIN_TOKEN: 'y' })).toThrowError(expect.objectContaining({ code: 'NW_USAGE' }));
    expect(() => joinTokenFrom({ tokenFile: path.join(f, 'nope') }, {})).toThrowError(/cannot read the join token file/);
  });
});
