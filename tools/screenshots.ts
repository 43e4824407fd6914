// npm run screenshots: the dashboard's pictures for the README, from a real run. A controller
// (dist/'s CLI) with 36 simulated agents on three hypervisors (placed in the store: no Nova here,
// lab/sim-fleet), two of them unhealthy, a rollout in progress (two waves done), a
// browser signed in the operator's way (`nodewright ui --json`), then one PNG per page in
// docs/screenshots/. Everything started is stopped and its directory removed at the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { rolloutDesired } from '../bench/campaign-controller.js';
import { launchChromium } from '../lab/chromium/browser.js';
import { startSimFleetIn, type SimFleet } from '../lab/sim-fleet/fleet.js';
import type { AgentStatus } from '../protocol/status.js';

const HYPERVISORS = ['cmp-a', 'cmp-b', 'cmp-c'];
const PER_HYPERVISOR = 12;
const OUT = path.resolve('docs/screenshots');

const nodes = HYPERVISORS.flatMap((hv, h) => Array.from({ length: PER_HYPERVISOR }, (_, i) => `wk-${String.fromCharCode(97 + h)}${String(i + 1).padStart(2, '0')}`));
const hypervisors = Object.fromEntries(nodes.map((n, i) => [n, HYPERVISORS[Math.floor(i / PER_HYPERVISOR)]]));

/** An agent whose rbd probe fails with its own message (a degraded tile, a step message on its page). */
const rbdFailing = (s: AgentStatus): AgentStatus => {
  const at = new Date().toISOString();
  const error = { code: 'NW_CEPH_TIMEOUT', message: 'rbd write to kube/nodewright-probe timed out after 5000 ms (mon 10.0.0.11:3300)' };
  return {
    ...s,
    converged: false,
    ready: false,
    steps: s.steps.map((st) => (st.name === 'probes' ? { ...st, state: 'failed', message: error.message, error, at } : st)),
    probes: s.probes.map((p) => (p.name === 'rbd' ? { ...p, status: 'fail', ok: false, error } : p)),
    lastError: { ...error, step: 'probes', at },
  };
};

async function shoot(page: Page, url: string, file: string, o: { fullPage?: boolean; status?: number } = {}): Promise<void> {
  const res = await page.goto(url);
  const want = o.status ?? 200;
  if (res?.status() !== want) throw new Error(`${url} answered ${res?.status()}, not ${want}`);
  await page.waitForTimeout(300); // the live region's first update
  await page.screenshot({ path: path.join(OUT, file), fullPage: o.fullPage ?? true });
  console.log(`docs/screenshots/${file}  ${url.replace(/^https:\/\/[^/]+/, '')}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-screenshots-'));
  let fleet: SimFleet | null = null;
  let close = async () => {};
  try {
    fleet = await startSimFleetIn(dir, ['node', path.resolve('dist/controller/cli.js')], { nodes, hypervisors, pollIntervalSec: 0.5 });
    const f = fleet;
    const rollout = (tag: string, flags: string[]) => {
      const desired = path.join(dir, `desired-${tag}.yaml`);
      writeFileSync(desired, stringify(rolloutDesired(tag)));
      const r = f.nodewright('rollout', 'start', '--desired', desired, ...flags, '--json');
      if (r.status !== 0) throw new Error(`rollout start: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout).id as string;
    };
    const state = async (id: string) => (await f.api('GET', `/v1/rollouts/${id}`)).json as { state: string; nodes: { phase: string }[] };
    // two workers that took an earlier rollout, then went unhealthy (an agent holding no desired state counts as healthy)
    const sick = ['wk-c03', 'wk-c07'];
    const first = rollout('v1.10.13-ceph1', ['--nodes', sick.join(','), '--failure-domain', 'none', '--max-unavailable', '2', '--steps', '100%', '--min-healthy', '0.5s']);
    await f.waitFor('the first rollout completed', async () => (await state(first)).state === 'completed', 60_000);
    for (const n of sick) f.agents.get(n)!.override = rbdFailing;
    await f.waitFor('two nodes degraded', async () => ((await f.api('GET', '/v1/nodes')).json as { nodes: { state: string }[] }).nodes.filter((n) => n.state === 'degraded').length === 2);
    // the fleet's rollout in progress: pictures once the canary and the first full wave are done
    const id = rollout('v1.10.13-ceph2', ['--group', 'lab', '--steps', '1,3', '--max-unavailable', '5', '--failure-domain', 'hypervisor', '--max-unavailable-per-domain', '3', '--min-healthy', '5s', '--gate-timeout', '20m']);
    await f.waitFor('two waves done', async () => ((await state(id)) as unknown as { wave: number }).wave >= 2, 90_000);

    const chromium = await launchChromium({ controller: f.url, caPem: f.caPem });
    close = () => chromium.close();
    mkdirSync(OUT, { recursive: true });
    const link = f.nodewright('ui', '--json');
    if (link.status !== 0) throw new Error(`nodewright ui --json: ${link.stdout}${link.stderr}`);
    const page = await (await chromium.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const landed = await page.goto(JSON.parse(link.stdout).url);
    if (landed?.status() !== 200) throw new Error(`the sign-in link answered ${landed?.status()}`);
    await shoot(page, `${f.url}/ui/rollouts/${id}`, 'rollout.png');
    await shoot(page, `${f.url}/ui/`, 'fleet.png');
    await shoot(page, `${f.url}/ui/rollouts`, 'rollouts.png', { fullPage: false });
    await shoot(page, `${f.url}/ui/nodes/wk-c03`, 'node.png');
    await shoot(page, `${f.url}/ui/events`, 'events.png', { fullPage: false });
    const signedOut = await (await chromium.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await shoot(signedOut, `${f.url}/ui/`, 'sign-in.png', { status: 401, fullPage: false });
  } finally {
    await close();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`screenshots failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
