// Sign-in and the fleet page in Debian's Chromium against the packaged controller with six simulated
// agents on three hypervisors: a `nodewright ui --json` link signs the browser in and lands on /ui/
// with a tile per node grouped by hypervisor; the same link again, and a browser without a session,
// get the 401 sign-in page; an operator client certificate signs a browser in without a link; a
// node's health change reaches the open fleet page, and the open node page, without a reload; the
// name filter finds nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiLab, textOf, watchPage, type UiLab } from './lab.js';

const HV: Record<string, string> = { a1: 'cmp-a', a2: 'cmp-a', b1: 'cmp-b', b2: 'cmp-b', c1: 'cmp-c', c2: 'cmp-c' };
const NODES = Object.keys(HV);

describe('dashboard sign-in and fleet, in Chromium', () => {
  let lab: UiLab;
  beforeAll(async () => {
    lab = await startUiLab({ nodes: NODES, hypervisors: HV });
    await lab.converge(['b2']); // an agent that holds no desired state is healthy whatever it reports
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('the link from `nodewright ui --json` signs the browser in and lands on /ui/; a second use is refused with 401', async () => {
    const { url, expiresAt } = lab.link();
    expect(url).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${lab.fleet.port}/ui/login\\?code=`));
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(61_000);

    const first = await lab.chromium.newContext();
    const page = await first.newPage();
    const res = await page.goto(url);
    expect(res!.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    expect(await textOf(page, '[data-testid=whoami]')).toMatch(/^operator:\S+/);
    expect(await textOf(page, '[data-testid=whoami]')).not.toContain('read-only');
    const cookie = (await first.cookies()).find((c) => c.name === 'nw_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);
    for (const nav of ['Fleet', 'Rollouts', 'Events']) await expect(page.getByRole('link', { name: nav, exact: true }).count()).resolves.toBeGreaterThan(0);

    // the same link in another browser: used, refused
    const second = await lab.chromium.newContext();
    const again = await second.newPage();
    const refused = await again.goto(url);
    expect(refused!.status()).toBe(401);
    expect(await again.textContent('body')).toContain('nodewright ui');
    expect((await second.cookies()).some((c) => c.name === 'nw_session')).toBe(false);
    // and it did not sign that browser in
    expect((await again.goto(`${lab.fleet.url}/ui/`))!.status()).toBe(401);
    await first.close();
    await second.close();
  });

  it('a signed-out browser gets the 401 "Sign in" page on every dashboard page', async () => {
    const context = await lab.chromium.newContext();
    const page = await context.newPage();
    for (const p of ['/ui/', '/ui/rollouts', '/ui/events', '/ui/nodes/a1']) {
      const res = await page.goto(`${lab.fleet.url}${p}`);
      expect(res!.status(), p).toBe(401);
      expect(await textOf(page, 'h1'), p).toBe('Sign in');
      expect(await page.textContent('body'), p).toContain('nodewright ui');
      expect(await page.$('[data-testid=whoami]'), p).toBeNull();
    }
    await context.close();
  });

  it('a browser presenting the operator client certificate is signed in without a link', async () => {
    const context = await lab.chromium.newContextWithClientCertificate({ origin: lab.fleet.url, certPem: lab.fleet.operator.certPem, keyPem: lab.fleet.operator.keyPem });
    const page = await context.newPage();
    const res = await page.goto(`${lab.fleet.url}/ui/`);
    expect(res!.status()).toBe(200);
    expect(await textOf(page, '[data-testid=whoami]')).toMatch(/^operator:\S+/);
    await context.close();
  });

  it('the fleet: a tile per node, grouped by hypervisor, ready/total on top; a health change reaches the open page without a reload', async () => {
    const { context, page } = await lab.signedIn();
    const seen = watchPage(page, { acceptConfirms: false });
    await page.reload(); // watched from its first request on
    const tiles = await page.$$eval('a.tile[data-node]', (as) => as.map((a) => ({ node: a.getAttribute('data-node'), state: a.getAttribute('data-state'), href: a.getAttribute('href'), domain: a.closest('section.domain')?.getAttribute('data-domain') })));
    expect(tiles.map((t) => t.node).sort()).toEqual([...NODES].sort());
    for (const t of tiles) {
      expect(t.state, t.node!).toBe('healthy');
      expect(t.href).toBe(`/ui/nodes/${t.node}`);
      expect(t.domain, t.node!).toBe(HV[t.node!]);
    }
    expect(await page.$$eval('section.domain', (ss) => ss.map((s) => s.getAttribute('data-domain')).sort())).toEqual(['cmp-a', 'cmp-b', 'cmp-c']);
    expect(await textOf(page, 'section.domain[data-domain="cmp-b"]')).toContain('2/2 ready');
    expect(await textOf(page, '[data-testid=fleet-summary]')).toContain('6/6');

    // b2's agent turns unhealthy: its tile and its hypervisor's header change in place
    await page.evaluate(() => ((window as unknown as { nwMark: number }).nwMark = 42));
    const before = seen.navigations();
    const urls = seen.urls.length;
    lab.fleet.agents.get('b2')!.override = (s) => ({ ...s, ready: false, probes: s.probes.map((p) => (p.name === 'rbd' ? { ...p, status: 'fail', ok: false } : p)) });
    const flipped = Date.now();
    await lab.fleet.waitFor('b2 degraded in the API', async () => ((await lab.fleet.api('GET', '/v1/nodes')).json as { nodes: { name: string; state: string }[] }).nodes.find((n) => n.name === 'b2')?.state === 'degraded', 10_000);
    const observed = Date.now();
    await page.waitForFunction(() => document.querySelector('a.tile[data-node="b2"]')?.getAttribute('data-state') === 'degraded', null, { timeout: 10_000 }).catch((e: Error) => {
      throw new Error(`b2 degraded in the API ${observed - flipped} ms after the flip, not on the page 10 s later (${e.message}); the page's streams and console:\n${seen.log.join('\n')}`);
    });
    await page.waitForFunction(() => document.querySelector('section.domain[data-domain="cmp-b"] [data-worst]')?.getAttribute('data-worst') === 'degraded' || document.querySelector('section.domain[data-domain="cmp-b"]')?.getAttribute('data-worst') === 'degraded', null, { timeout: 15_000 });
    expect(await textOf(page, 'section.domain[data-domain="cmp-b"]')).toContain('1/2 ready');
    expect(seen.navigations()).toBe(before);
    expect(seen.urls.slice(urls)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { nwMark?: number }).nwMark)).toBe(42);

    // the filter form: state=degraded shows only b2
    await page.goto(`${lab.fleet.url}/ui/?state=degraded`);
    expect(await page.$$eval('a.tile[data-node]', (as) => as.map((a) => a.getAttribute('data-node')))).toEqual(['b2']);
    lab.fleet.agents.get('b2')!.override = null;

    // the tile's link: the node's page
    await page.goto(`${lab.fleet.url}/ui/`);
    await page.click('a.tile[data-node="a1"]');
    await page.waitForURL(`${lab.fleet.url}/ui/nodes/a1`);
    expect(await textOf(page, 'h1')).toBe('a1');
    expect(await page.$$eval('tr[data-step]', (rs) => rs.map((r) => r.getAttribute('data-step')))).toEqual(['packages', 'keyring', 'unit', 'artifact', 'probes']);
    expect(await textOf(page, 'tr[data-probe="rbd"]')).toMatch(/\d+(\.\d+)?\s*ms/);
    expect(await textOf(page, '[data-testid=kubelet-version]')).toContain('1.10.13-ceph1');
    // the node page is live too: b2's probe fails again, its state and probe row change in place
    await lab.fleet.waitFor('b2 healthy again in the API', async () => ((await lab.fleet.api('GET', '/v1/nodes')).json as { nodes: { name: string; state: string }[] }).nodes.find((n) => n.name === 'b2')?.state === 'healthy', 10_000);
    await page.goto(`${lab.fleet.url}/ui/nodes/b2`);
    expect(await page.getAttribute('[data-testid=node-state]', 'data-state')).toBe('healthy');
    await page.evaluate(() => ((window as unknown as { nwMark: number }).nwMark = 7));
    const onNode = seen.navigations();
    lab.fleet.agents.get('b2')!.override = (s) => ({ ...s, ready: false, probes: s.probes.map((p) => (p.name === 'rbd' ? { ...p, status: 'fail', ok: false } : p)) });
    await page.waitForFunction(() => document.querySelector('[data-testid=node-state]')?.getAttribute('data-state') === 'degraded', null, { timeout: 10_000 }).catch((e: Error) => {
      throw new Error(`b2's page did not turn degraded (${e.message}); the page's streams and console:\n${seen.log.join('\n')}`);
    });
    expect(await textOf(page, 'tr[data-probe="rbd"]')).toContain('fail');
    expect(seen.navigations()).toBe(onNode);
    expect(await page.evaluate(() => (window as unknown as { nwMark?: number }).nwMark)).toBe(7);
    lab.fleet.agents.get('b2')!.override = null;
    // a name filter finds nodes the tiles do not name
    await page.goto(`${lab.fleet.url}/ui/?name=B`);
    expect((await page.$$eval('a.tile[data-node]', (as) => as.map((a) => a.getAttribute('data-node')))).sort()).toEqual(['b1', 'b2']);
    expect((await page.goto(`${lab.fleet.url}/ui/nodes/nosuchnode`))!.status()).toBe(404);
    await context.close();
  });
});
