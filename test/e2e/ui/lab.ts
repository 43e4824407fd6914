// The dashboard's browser lab: the packaged controller with honest simulated agents
// (test/integration/controller/sim-fleet.ts) and Debian's Chromium (lab/chromium/browser.ts)
// trusting exactly that controller's certificate. Sign-in goes the operator's way: `nodewright ui
// --json` prints a one-time link, the browser opens it. stop() ends what start() began.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Dialog, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { launchChromium, type ChromiumLab } from '../../../lab/chromium/browser.js';
import { startSimFleet, type SimFleet } from '../../integration/controller/sim-fleet.js';
import { packagedBin } from '../build.js';

export interface RolloutApiView {
  id: string;
  state: string;
  reason: string | null;
  version: number;
  nodes: { name: string; phase: string; reason: string | null }[];
}

export interface UiLab {
  fleet: SimFleet;
  chromium: ChromiumLab;
  /** `nodewright ui --json [--read-only]`: the one-time sign-in link. */
  link(o?: { readOnly?: boolean }): { url: string; expiresAt: string };
  /** A fresh browser context signed in by a link; the page is on /ui/. */
  signedIn(o?: { readOnly?: boolean }): Promise<{ context: BrowserContext; page: Page }>;
  rollout(id: string): Promise<RolloutApiView>;
  /** `nodewright rollout start` on the fleet's group (or the `--nodes` among flags); returns the rollout id. */
  startRollout(tag: string, flags: string[]): string;
  /** Give `nodes` a desired state (a quick rollout, completed): an agent holding none is always healthy. */
  converge(nodes: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startUiLab(o: { nodes: string[]; hypervisors?: Record<string, string>; extraConfig?: string }): Promise<UiLab> {
  const fleet = await startSimFleet({ nodes: o.nodes, hypervisors: o.hypervisors, extraConfig: o.extraConfig, cli: [packagedBin('controller')] });
  let chromium: ChromiumLab;
  try {
    chromium = await launchChromium({ controller: fleet.url, caPem: fleet.caPem });
  } catch (e) {
    await fleet.stop();
    throw e;
  }
  const contexts: BrowserContext[] = [];
  const link = (l: { readOnly?: boolean } = {}) => {
    const r = fleet.nodewright('ui', '--json', ...(l.readOnly ? ['--read-only'] : []));
    if (r.status !== 0) throw new Error(`nodewright ui --json failed (exit ${r.status}): ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as { url: string; expiresAt: string };
  };
  return {
    fleet,
    chromium,
    link,
    async signedIn(l = {}) {
      const context = await chromium.newContext();
      contexts.push(context);
      const page = await context.newPage();
      const res = await page.goto(link(l).url);
      if (!res || res.status() !== 200 || new URL(page.url()).pathname !== '/ui/') throw new Error(`the sign-in link did not land on /ui/: ${res?.status()} at ${page.url()}`);
      return { context, page };
    },
    rollout: async (id) => (await fleet.api('GET', `/v1/rollouts/${id}`)).json as RolloutApiView,
    startRollout(tag, flags) {
      const desired = path.join(fleet.dir, `desired-${tag}.yaml`);
      writeFileSync(desired, stringify(rolloutDesired(tag)));
      const target = flags.includes('--nodes') ? [] : ['--group', 'lab'];
      const r = fleet.nodewright('rollout', 'start', ...target, '--desired', desired, ...flags, '--json');
      if (r.status !== 0) throw new Error(`rollout start failed: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout).id as string;
    },
    async converge(nodes) {
      const id = this.startRollout('converge', ['--nodes', nodes.join(','), '--failure-domain', 'none', '--steps', '100%', '--max-unavailable', String(nodes.length), '--min-healthy', '0.5s']);
      await fleet.waitFor(`rollout ${id} completed`, async () => (await this.rollout(id)).state === 'completed', 60_000);
    },
    async stop() {
      for (const c of contexts) await c.close().catch(() => {});
      await chromium.close();
      await fleet.stop();
    },
  };
}

export interface PageWatch {
  /** Documents loaded in the main frame (a reload counts; a same-document URL change does not). */
  navigations(): number;
  /** Every main-frame URL change, same-document ones included. */
  urls: string[];
  /** Every dialog the page opened. */
  dialogs: { type: string; message: string }[];
  /** Accept confirm() dialogs (else every dialog is dismissed). */
  acceptConfirms: boolean;
  /** The live streams the page opened and how they ended, and its console: for a failure's message. */
  log: string[];
}

/** Counts the page's main-frame navigations (a live update must not navigate) and every dialog it opens. */
export function watchPage(page: Page, o: { acceptConfirms: boolean }): PageWatch {
  let navigations = 0;
  const w: PageWatch = { navigations: () => navigations, urls: [], dialogs: [], acceptConfirms: o.acceptConfirms, log: [] };
  const at = () => new Date().toISOString().slice(11, 23);
  const live = (u: string) => u.includes('/ui/live/');
  page.on('request', (r) => void (live(r.url()) && w.log.push(`${at()} stream ${r.url()}`)));
  page.on('response', (r) => void (live(r.url()) && w.log.push(`${at()} stream answered ${r.status()}`)));
  page.on('requestfailed', (r) => void (live(r.url()) && w.log.push(`${at()} stream failed: ${r.failure()?.errorText}`)));
  page.on('requestfinished', (r) => void (live(r.url()) && w.log.push(`${at()} stream ended`)));
  page.on('console', (m) => void w.log.push(`${at()} console ${m.type()}: ${m.text()}`));
  page.on('domcontentloaded', () => navigations++);
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) w.urls.push(f.url());
  });
  page.on('dialog', (d: Dialog) => {
    w.dialogs.push({ type: d.type(), message: d.message() });
    void (w.acceptConfirms && d.type() === 'confirm' ? d.accept() : d.dismiss());
  });
  return w;
}

/** Text of the first element matching `selector`, whitespace collapsed ('' when absent). */
export async function textOf(page: Page, selector: string): Promise<string> {
  const el = await page.$(selector);
  return el ? ((await el.textContent()) ?? '').replace(/\s+/g, ' ').trim() : '';
}
