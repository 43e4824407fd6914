// Debian's Chromium (/usr/bin/chromium) driven by playwright-core, for the dashboard's browser tests,
// the screenshots and bench P10. Playwright's own browser download does not work here, so the
// browser is the packaged one (lab/install-deps.sh installs it); without it this throws, never skips.
// The profile: playwright refuses --user-data-dir among launch() args; it passes its own fresh one
// (a temp dir, playwright_chromiumdev_profile-*) and removes it when the browser closes.
//
// Trust: Chromium on Linux takes extra roots only from an NSS database (certutil, not installed
// here). Instead the controller's TLS certificate is checked in Node against the fleet CA (chain,
// name 127.0.0.1) and Chromium is told to accept exactly that certificate's key and the CA's key
// (--ignore-certificate-errors-spki-list, honoured with --user-data-dir): any other certificate is
// still an error. No context is made with ignoreHTTPSErrors except the client-certificate one (see
// newContextWithClientCertificate).
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import tls from 'node:tls';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The flags the browser runs with: without the background-networking ones Chromium keeps dialling out. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface ChromiumLab {
  browser: Browser;
  /** A context that trusts the controller's certificate (checked against its CA when launched). */
  newContext(o?: BrowserContextOptions): Promise<BrowserContext>;
  /**
   * A context whose browser presents an operator client certificate to `origin`. Playwright runs
   * mutual TLS through its own local proxy: Chromium talks to the proxy (which shows a throw-away
   * certificate, so Playwright makes that browser context ignore certificate errors itself) and the
   * proxy dials the controller with Node's default roots only; it cannot be given our fleet CA, so
   * this context needs ignoreHTTPSErrors. The controller's certificate was checked in Node against
   * the CA at launch, and the page checks the origin it reached.
   */
  newContextWithClientCertificate(c: { origin: string; certPem: string; keyPem: string }, o?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

export function requireChromium(executable = CHROMIUM): void {
  if (!existsSync(executable)) throw new Error(`${executable} is missing: run \`bash lab/install-deps.sh\` (Debian package chromium)`);
}

/** base64 sha256 of a certificate's SubjectPublicKeyInfo (DER): Chromium's SPKI pin format. */
export function spkiHash(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The certificate `host:port` serves, verified against `caPem` (chain and name): throws otherwise. */
export function servedCertificate(host: string, port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, ca: caPem, servername: host === '127.0.0.1' ? undefined : host, rejectUnauthorized: true, timeout: 10_000 }, () => {
      const der = s.getPeerCertificate().raw;
      s.end();
      resolve(`-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
    });
    s.once('timeout', () => (s.destroy(), reject(new Error(`TLS to ${host}:${port} timed out`))));
    s.once('error', (e) => reject(new Error(`the controller at ${host}:${port} does not present a certificate of its CA: ${e.message}`)));
  });
}

/**
 * Launch Chromium trusting the controller at `controller` (https://HOST:PORT) whose certificates
 * `caPem` signs.
 */
export async function launchChromium(o: { controller: string; caPem: string }): Promise<ChromiumLab> {
  requireChromium();
  const u = new URL(o.controller);
  const served = await servedCertificate(u.hostname, Number(u.port || 443), o.caPem);
  const pins = [spkiHash(served), spkiHash(o.caPem)];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, `--ignore-certificate-errors-spki-list=${pins.join(',')}`],
    timeout: 60_000,
  });
  return {
    browser,
    newContext: (c = {}) => browser.newContext({ ...c, ignoreHTTPSErrors: false }),
    newContextWithClientCertificate: (c, extra = {}) =>
      browser.newContext({ ...extra, ignoreHTTPSErrors: true, clientCertificates: [{ origin: c.origin, cert: Buffer.from(c.certPem), key: Buffer.from(c.keyPem) }] }),
    close: () => browser.close(),
  };
}
