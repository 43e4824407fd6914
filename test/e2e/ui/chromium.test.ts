// The browser harness itself, before any page: Debian's Chromium trusts the controller it was
// launched for (its certificate checked in Node against the fleet CA, then pinned) and nothing else —
// another fleet's controller is refused by the browser, and launching against a controller whose
// certificate the given CA did not sign fails in Node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, launchChromium } from '../../../lab/chromium/browser.js';
import { startSimFleet, type SimFleet } from '../../integration/controller/sim-fleet.js';
import { packagedBin } from '../build.js';

describe('Chromium against the controller', () => {
  let ours: SimFleet;
  let other: SimFleet;
  beforeAll(async () => {
    ours = await startSimFleet({ nodes: ['h1'], cli: [packagedBin('controller')] });
    other = await startSimFleet({ nodes: ['h2'], cli: [packagedBin('controller')] });
  }, 180_000);
  afterAll(async () => {
    await ours?.stop();
    await other?.stop();
  });

  it('reaches its controller over verified TLS, refuses another fleet\'s; a CA that did not sign the controller fails the launch', async () => {
    expect(CHROMIUM_FLAGS).toEqual(['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run']);
    const chromium = await launchChromium({ controller: ours.url, caPem: ours.caPem });
    try {
      const context = await chromium.newContext();
      const page = await context.newPage();
      const res = await page.goto(`${ours.url}/readyz`);
      expect(res!.status()).toBe(200);
      const refused = await page.goto(`${other.url}/readyz`).then(() => 'loaded', (e: Error) => e.message);
      expect(refused).toMatch(/ERR_CERT_AUTHORITY_INVALID|ERR_CERT/);
      await context.close();
    } finally {
      await chromium.close();
    }
    await expect(launchChromium({ controller: other.url, caPem: ours.caPem })).rejects.toThrow(/does not present a certificate of its CA/);
  }, 120_000);
});
