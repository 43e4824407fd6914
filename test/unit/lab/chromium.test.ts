// lab/chromium/browser.ts: the pin Chromium is given (--ignore-certificate-errors-spki-list): base64 of the sha256 of the
// certificate's SubjectPublicKeyInfo, as Chromium's documentation computes it with openssl; and a
// missing browser.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireChromium, spkiHash } from '../../../lab/chromium/browser.js';
import { createCa } from '../../../pki/index.js';

describe('spkiHash', () => {
  it("equals openssl's SPKI digest of the certificate", async () => {
    const { certPem } = await createCa({ commonName: 'pin test CA' });
    const der = execFileSync('sh', ['-c', 'openssl x509 -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64'], { input: certPem, encoding: 'utf8' }).trim();
    expect(spkiHash(certPem)).toBe(der);
    expect(spkiHash(certPem)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe('requireChromium', () => {
  it('a missing browser is an error naming the set-up script, never a skip', () => {
    expect(() => requireChromium('/nonexistent/chromium')).toThrow('/nonexistent/chromium is missing: run `bash lab/install-deps.sh` (Debian package chromium)');
  });
});
