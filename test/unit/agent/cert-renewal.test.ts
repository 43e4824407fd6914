// When the agent renews its certificate, how it backs off, and where its join token comes from.
import { describe, expect, it } from 'vitest';
import { nextRetryMs, renewalDue, retryAfterMsOf, retryDelay } from '../../../agent/cert-renewal.js';
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

  it('a rate-limited renewal (429) waits at least the Retry-After the controller sent', () => {
    expect(retryAfterMsOf('600')).toBe(600_000);
    expect(retryAfterMsOf(['2.5'])).toBe(2_500);
    expect([undefined, '', 'soon', '-3', '0'].map((h) => retryAfterMsOf(h))).toEqual([0, 0, 0, 0, 0]);
    const long = 100 * 86_400_000;
    expect(nextRetryMs(1, long, 600_000)).toBe(600_000);
    expect(nextRetryMs(8, long, 2_000)).toBe(300_000);
    expect(nextRetryMs(1, long, 0)).toBe(5_000);
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

describe('a renewal interrupted between the certificate and the key', () => {
  it('is completed at start: KEY.next moves into place when it is the certificate\'s key; a stale one is removed', async () => {
    const { createCa, createKeyAndCsr, signCsr } = await import('../../../pki/index.js');
    const { completeRenewal } = await import('../../../agent/auth.js');
    const { existsSync, readFileSync } = await import('node:fs');
    const ca = await createCa({ commonName: 'fleet CA' });
    const old = await createKeyAndCsr({ commonName: 'w1' });
    const next = await createKeyAndCsr({ commonName: 'w1' });
    const newCert = (await signCsr({ ca, csrPem: next.csrPem, role: 'agent', name: 'w1' })).certPem;
    const oldCert = (await signCsr({ ca, csrPem: old.csrPem, role: 'agent', name: 'w1' })).certPem;
    const d = tempDir('nw-renew-crash-');
    const key = path.join(d, 'agent.key');
    // crashed after the certificate was written: the new key waits in agent.key.next
    writeFileSync(key, old.keyPem, { mode: 0o600 });
    writeFileSync(`${key}.next`, next.keyPem, { mode: 0o600 });
    await completeRenewal(newCert, key);
    expect(readFileSync(key, 'utf8')).toBe(next.keyPem);
    expect(existsSync(`${key}.next`)).toBe(false);
    // crashed before the certificate was written: the old pair stays, the stale key goes
    writeFileSync(key, old.keyPem, { mode: 0o600 });
    writeFileSync(`${key}.next`, next.keyPem, { mode: 0o600 });
    await completeRenewal(oldCert, key);
    expect(readFileSync(key, 'utf8')).toBe(old.keyPem);
    expect(existsSync(`${key}.next`)).toBe(false);
    // nothing pending: nothing happens
    await completeRenewal(oldCert, key);
    expect(readFileSync(key, 'utf8')).toBe(old.keyPem);
  });
});
