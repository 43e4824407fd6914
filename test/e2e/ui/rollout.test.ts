// Rollouts steered from Chromium against the packaged controller with six simulated agents: the
// rollout page advances live (no navigation), Pause / Resume / Abort confirmed by the browser's
// confirm() and recorded with the operator's name (events page and API agree), and what is refused:
// a viewer session pressing an action (403 in the alert, rollout unchanged) and a request without
// the CSRF token (403, unchanged). Bulk from the rollouts list: selected (its confirm counts them) and
// Pause all running, each outcome shown in the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiLab, textOf, watchPage, type UiLab } from './lab.js';

const NODES = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
const BASE = ['--failure-domain', 'none'];

interface EventView { id: number; actor: string; kind: string; subject: string; data?: { rollout?: string } }

describe('rollouts from the dashboard, in Chromium', () => {
  let lab: UiLab;
  const events = async (id: string) =>
    ((await lab.fleet.api('GET', '/v1/events?after=0&limit=10000')).json as { events: EventView[] }).events.filter((e) => e.subject === id || e.data?.rollout === id);
  const phaseText = (page: import('playwright-core').Page) => textOf(page, '[data-testid=rollout-phase]');
  const waitPhase = (page: import('playwright-core').Page, phase: string, timeout = 20_000) =>
    page.waitForFunction((p) => document.querySelector('[data-testid=rollout-phase]')?.textContent?.trim() === p, phase, { timeout });

  beforeAll(async () => {
    lab = await startUiLab({ nodes: NODES });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('the rollout page advances live while it stays open: waves, node rows and phase change with no navigation', async () => {
    const id = lab.startRollout('live', [...BASE, '--steps', '1,2', '--max-unavailable', '2', '--min-healthy', '3s']);
    const { context, page } = await lab.signedIn();
    const seen = watchPage(page, { acceptConfirms: false });
    await page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);
    await page.evaluate(() => ((window as unknown as { nwMark: number }).nwMark = 7));
    const navigations = seen.navigations();
    const urls = seen.urls.length;
    expect(['running', 'waiting']).toContain(await phaseText(page));
    const waves = await page.$$eval('.wave', (ws) => ws.map((w) => ({ wave: w.getAttribute('data-wave'), state: w.getAttribute('data-state') })));
    expect(waves.length).toBeGreaterThanOrEqual(3);
    expect(waves.at(-1)!.state).toBe('pending');
    expect(await page.$$eval('tr[data-node]', (rs) => rs.map((r) => r.getAttribute('data-node')).sort())).toEqual(NODES);
    expect(await textOf(page, '[data-testid=strategy]')).not.toBe('');
    expect(await textOf(page, '[data-testid=budget]')).toMatch(/\b0\b/);

    // the canary's wave is done and a node row turned healthy, then the last wave, then completed: all pushed by the server
    await page.waitForFunction(() => document.querySelector('.wave')?.getAttribute('data-state') === 'done', null, { timeout: 30_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-node] td.phase')].some((td) => td.textContent?.trim() === 'healthy'), null, { timeout: 30_000 });
    await page.waitForFunction(() => { const ws = document.querySelectorAll('.wave'); return ws[ws.length - 1]?.getAttribute('data-state') !== 'pending'; }, null, { timeout: 60_000 });
    await waitPhase(page, 'completed', 60_000);
    expect(await page.$$eval('tr[data-node] td.phase', (tds) => tds.map((td) => td.textContent?.trim()))).toEqual(NODES.map(() => 'healthy'));
    expect(await page.$$eval('.wave', (ws) => ws.map((w) => w.getAttribute('data-state')))).toEqual(waves.map(() => 'done'));
    expect(seen.navigations()).toBe(navigations);
    // no document loaded and the address never changed (htmx may record a same-document history entry for the same URL)
    expect(seen.urls.slice(urls).filter((u) => u !== `${lab.fleet.url}/ui/rollouts/${id}`)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { nwMark?: number }).nwMark)).toBe(7);
    expect((await lab.rollout(id)).state).toBe('completed');

    // the list links to it, newest first
    await page.goto(`${lab.fleet.url}/ui/rollouts`);
    expect(await page.getAttribute(`tr[data-rollout="${id}"] a`, 'href')).toBe(`/ui/rollouts/${id}`);
    await context.close();
  }, 120_000);

  it('refused: a viewer pressing Pause (403 shown, rollout unchanged) and a POST without the CSRF token (403, unchanged)', async () => {
    // a canary that holds its gate for a minute: the rollout stays running meanwhile
    const id = lab.startRollout('refusals', [...BASE, '--steps', '1', '--min-healthy', '60s']);
    await lab.fleet.waitFor('the canary pushed', async () => (await lab.rollout(id)).nodes.some((n) => n.phase !== 'pending'));

    const viewer = await lab.signedIn({ readOnly: true });
    expect(await textOf(viewer.page, '[data-testid=whoami]')).toContain('(read-only)');
    const vseen = watchPage(viewer.page, { acceptConfirms: true });
    await viewer.page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);
    await viewer.page.getByRole('button', { name: 'Pause', exact: true }).click();
    await viewer.page.waitForSelector('[role=alert]:not(:empty)', { timeout: 10_000 });
    expect(await textOf(viewer.page, '[role=alert]')).toMatch(/403|read-only|not allowed|forbidden/i);
    expect(vseen.dialogs.map((d) => d.type)).toEqual(['confirm']);
    await viewer.context.close();

    const { context, page } = await lab.signedIn();
    await page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);
    const statuses = await page.evaluate(async (rid) => {
      const post = (headers: Record<string, string>) => fetch(`/ui/rollouts/${rid}/pause`, { method: 'POST', headers }).then((r) => r.status);
      return { none: await post({}), wrong: await post({ 'x-csrf-token': 'not-the-token' }) };
    }, id);
    expect(statuses).toEqual({ none: 403, wrong: 403 });

    // nothing changed: still running, and no pause by anyone
    await new Promise((r) => setTimeout(r, 1000));
    expect(['running', 'waiting']).toContain((await lab.rollout(id)).state);
    expect((await events(id)).filter((e) => e.kind === 'rollout.paused')).toEqual([]);
    // the same request with the page's token works: the 403s were the token's doing
    const ok = await page.evaluate(async (rid) => {
      const token = document.querySelector('meta[name=csrf-token]')!.getAttribute('content')!;
      return (await fetch(`/ui/rollouts/${rid}/pause`, { method: 'POST', headers: { 'x-csrf-token': token } })).status;
    }, id);
    expect(ok).toBe(200);
    expect((await lab.rollout(id)).state).toBe('paused');
    lab.fleet.nodewright('rollout', 'abort', id);
    await context.close();
  }, 120_000);

  it('Pause, Resume and Abort from the page, each confirmed; the events page and the API name the operator', async () => {
    const id = lab.startRollout('steer', [...BASE, '--steps', '1', '--min-healthy', '60s']);
    const { context, page } = await lab.signedIn();
    const seen = watchPage(page, { acceptConfirms: true });
    const actor = await textOf(page, '[data-testid=whoami]');
    expect(actor).toMatch(/^operator:\S+$/);
    await page.goto(`${lab.fleet.url}/ui/rollouts/${id}`);
    const button = (name: string) => page.getByRole('button', { name, exact: true });
    expect(await button('Resume').count()).toBe(0);

    await button('Pause').click();
    await waitPhase(page, 'paused');
    expect((await lab.rollout(id)).state).toBe('paused');
    expect(await button('Pause').count()).toBe(0);
    expect(await button('Resume').count()).toBe(1);

    await button('Resume').click();
    await page.waitForFunction(() => !['paused', ''].includes(document.querySelector('[data-testid=rollout-phase]')?.textContent?.trim() ?? ''), null, { timeout: 20_000 });
    const resumed = await lab.rollout(id);
    expect(resumed.state).not.toBe('paused');
    expect(await phaseText(page)).toBe(resumed.state);

    await button('Abort').click();
    await waitPhase(page, 'aborted');
    expect((await lab.rollout(id)).state).toBe('aborted');
    expect(seen.dialogs.map((d) => d.type)).toEqual(['confirm', 'confirm', 'confirm']);

    // who did it: the API's events and the events page carry the operator, like the CLI's
    const kinds = (await events(id)).filter((e) => e.actor === actor).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['rollout.paused', `rollout.${resumed.state}`, 'rollout.aborted']));
    await page.goto(`${lab.fleet.url}/ui/events?subject=${id}`);
    const rows = await page.$$eval('tr[data-event]', (rs) => rs.map((r) => r.textContent!.replace(/\s+/g, ' ')));
    expect(rows.some((r) => r.includes(actor) && r.includes('rollout.paused'))).toBe(true);
    expect(rows.some((r) => r.includes(actor) && r.includes('rollout.aborted'))).toBe(true);
    // newest first
    expect(rows.findIndex((r) => r.includes('rollout.aborted'))).toBeLessThan(rows.findIndex((r) => r.includes('rollout.paused')));
    await context.close();
  }, 120_000);

  it('bulk: Pause selected names how many in its confirm; Pause all running stops the rest; Abort selected; each outcome shown, the operator recorded', async () => {
    const a = lab.startRollout('bulk-a', [...BASE, '--nodes', 'r1', '--steps', '1', '--min-healthy', '60s']);
    const b = lab.startRollout('bulk-b', [...BASE, '--nodes', 'r2', '--steps', '1', '--min-healthy', '60s']);
    const { context, page } = await lab.signedIn();
    const seen = watchPage(page, { acceptConfirms: true });
    const actor = await textOf(page, '[data-testid=whoami]');
    await page.goto(`${lab.fleet.url}/ui/rollouts`);
    const button = (name: string) => page.getByRole('button', { name, exact: true });
    const outcome = (id: string) => page.getAttribute(`[data-bulk-id="${id}"]`, 'data-outcome');

    await page.check(`tr[data-rollout="${a}"] input[name=ids]`);
    await button('Pause selected').click();
    await page.waitForSelector(`[data-bulk-id="${a}"]`, { timeout: 10_000 });
    expect(await outcome(a)).toBe('done');
    expect(seen.dialogs.at(-1)!.message).toMatch(/^Pause 1 rollout\?/);
    expect((await lab.rollout(a)).state).toBe('paused');
    expect(['running', 'waiting']).toContain((await lab.rollout(b)).state);
    expect(await textOf(page, `tr[data-rollout="${a}"] td.state`)).toBe('paused');

    await button('Pause all running').click();
    await page.waitForSelector(`[data-bulk-id="${b}"]`, { timeout: 10_000 });
    expect(seen.dialogs.at(-1)!.message).toMatch(/^Pause all 1 rollout running in the fleet\?/);
    expect(await outcome(b)).toBe('done');
    expect((await lab.rollout(b)).state).toBe('paused');
    expect(await button('Pause all running').count()).toBe(0);

    for (const id of [a, b]) await page.check(`tr[data-rollout="${id}"] input[name=ids]`);
    await button('Resume selected').click(); // paused both: resumes both
    await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`[data-bulk-id="${id}"]`)?.getAttribute('data-outcome') === 'done') && document.querySelector('.bulk-result strong')?.textContent === 'resume', [a, b], { timeout: 10_000 });
    expect(seen.dialogs.at(-1)!.message).toMatch(/^Resume 2 rollouts\?/);
    for (const id of [a, b]) await page.check(`tr[data-rollout="${id}"] input[name=ids]`);
    await button('Abort selected').click();
    await page.waitForFunction(() => document.querySelector('.bulk-result strong')?.textContent === 'abort', null, { timeout: 10_000 });
    for (const id of [a, b]) expect((await lab.rollout(id)).state).toBe('aborted');
    expect(seen.dialogs.map((d) => d.type)).toEqual(['confirm', 'confirm', 'confirm', 'confirm']);
    for (const id of [a, b]) expect((await events(id)).filter((e) => e.actor === actor).map((e) => e.kind)).toEqual(expect.arrayContaining(['rollout.paused', 'rollout.aborted']));
    await context.close();
  }, 120_000);
});
