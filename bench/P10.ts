// P10: the dashboard at 5,000 nodes. A controller (dist/'s CLI, SQLite) whose store holds 5,000
// node records on 50 hypervisors, put there before it starts (their agents do not exist: they are
// unreachable, backed off), plus one live simulated agent enrolled through the join API
// (lab/sim-fleet). Measured, with a browser signed in by `nodewright ui --json`:
//  - the server's render of the fleet page /ui/ (request → last byte over keep-alive TLS, median and
//    p95 of BENCH_P10_REQUESTS, default 30), beside the JSON API's GET /v1/nodes for the same fleet
//    (the baseline, same connection shape, operator certificate);
//  - Chromium's time to DOMContentLoaded of /ui/ (Navigation Timing, median of BENCH_P10_LOADS, default 10);
//  - an agent's state change reaching the open page: the live agent's health flips (its rbd probe
//    fails, then passes again), timed from the flip to the tile's data-state change seen by a
//    MutationObserver in the page; the controller's observation (its node.health event) splits it
//    into flip → observation (the poll interval's share) and observation → page (the dashboard's).
// Targets: DOMContentLoaded ≤ 300 ms and server render ≤ 300 ms; flip → page ≤ 1000 ms.
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { launchChromium } from '../lab/chromium/browser.js';
import { startSimFleetIn, type SimFleet } from '../lab/sim-fleet/fleet.js';
import { openSqliteStore } from '../controller/store/sqlite.js';
import type { AgentStatus } from '../protocol/status.js';
import { rolloutDesired } from './campaign-controller.js';
import { median, percentile, report } from './lib.js';

const NODES = 5000;
const HYPERVISORS = 50;
const POLL_INTERVAL_SEC = 0.5;
const LIVE = 'live-0001';
const RENDER_TARGET = 300;
const LIVE_TARGET = 1000;

const rbdFailing = (s: AgentStatus): AgentStatus => ({ ...s, ready: false, probes: s.probes.map((p) => (p.name === 'rbd' ? { ...p, status: 'fail', ok: false } : p)) });

/** GET url over one keep-alive agent, `n` times: ms from request to the last byte, and the body size. */
async function timedGets(url: string, n: number, o: https.RequestOptions): Promise<{ ms: number[]; bytes: number }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const ms: number[] = [];
  let bytes = 0;
  try {
    for (let i = 0; i <= n; i++) {
      const t0 = performance.now();
      const { status, size } = await new Promise<{ status: number; size: number }>((resolve, reject) => {
        https
          .get(url, { ...o, agent, timeout: 30_000 }, (res) => {
            let size = 0;
            res.on('data', (c: Buffer) => (size += c.length));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, size }));
          })
          .on('error', reject);
      });
      if (status !== 200) throw new Error(`GET ${url} answered ${status}`);
      if (i > 0) ms.push(performance.now() - t0); // the first request pays the TLS handshake
      bytes = size;
    }
  } finally {
    agent.destroy();
  }
  return { ms, bytes };
}

/** 5,000 node records, unreachable (127.0.0.1:9 refuses), on HYPERVISORS hypervisors. */
async function putNodes(stateDir: string): Promise<void> {
  const store = openSqliteStore({ stateDir });
  const at = new Date().toISOString();
  try {
    for (let i = 0; i < NODES; i++) {
      const name = `w${String(i).padStart(5, '0')}`;
      await store.putNode({
        name, group: 'fleet', labels: { rack: `r${i % 20}` }, url: 'https://127.0.0.1:9', certSha256: '0'.repeat(64),
        facts: { hostname: name, addresses: [`10.1.${Math.floor(i / 250)}.${i % 250}`], runtime: 'rkt' }, enrolledAt: at,
        hypervisor: `cmp-${String(i % HYPERVISORS).padStart(2, '0')}`, hypervisorRule: 'name',
        health: 'unreachable', reason: 'connect ECONNREFUSED 127.0.0.1:9', healthSince: at, lastSeenAt: null, generation: null, converged: false, ready: false,
      });
    }
  } finally {
    await store.close();
  }
}

export async function run(): Promise<void> {
  const requests = Number(process.env.BENCH_P10_REQUESTS ?? 30);
  const loads = Number(process.env.BENCH_P10_LOADS ?? 10);
  const flips = Number(process.env.BENCH_P10_FLIPS ?? 6);
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-p10-'));
  let fleet: SimFleet | null = null;
  let closeBrowser = async () => {};
  try {
    const t0 = Date.now();
    fleet = await startSimFleetIn(dir, ['node', path.resolve('dist/controller/cli.js')], { nodes: [LIVE], pollIntervalSec: POLL_INTERVAL_SEC, maxBackoffSec: 60, beforeStart: putNodes });
    const f = fleet;
    const total = ((await f.api('GET', '/v1/nodes')).json as { nodes: unknown[] }).nodes.length;
    console.log(`  fleet: ${total} nodes (${NODES} in the store, unreachable; 1 live agent polled every ${POLL_INTERVAL_SEC} s), up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // the live agent gets a desired state (an agent holding none is healthy whatever it reports)
    const desired = path.join(dir, 'desired.yaml');
    writeFileSync(desired, stringify(rolloutDesired('p10')));
    const started = f.nodewright('rollout', 'start', '--nodes', LIVE, '--desired', desired, '--failure-domain', 'none', '--min-healthy', '0.5s', '--json');
    if (started.status !== 0) throw new Error(`rollout start: ${started.stdout}${started.stderr}`);
    const rid = JSON.parse(started.stdout).id as string;
    await f.waitFor(`rollout ${rid} completed`, async () => ((await f.api('GET', `/v1/rollouts/${rid}`)).json as { state: string }).state === 'completed', 60_000);
    // the first round of failing polls settles (every stored node tried once, then backed off)
    await new Promise((r) => setTimeout(r, 5000));

    const chromium = await launchChromium({ controller: f.url, caPem: f.caPem });
    closeBrowser = () => chromium.close();
    const context = await chromium.newContext();
    const page = await context.newPage();
    const link = f.nodewright('ui', '--json');
    if (link.status !== 0) throw new Error(`nodewright ui --json: ${link.stdout}${link.stderr}`);
    const landed = await page.goto(JSON.parse(link.stdout).url);
    if (landed?.status() !== 200) throw new Error(`the sign-in link answered ${landed?.status()}`);
    const tiles = await page.$$eval('a.tile[data-node]', (as) => as.length);
    if (tiles !== total) throw new Error(`the fleet page shows ${tiles} tiles, not ${total}`);
    const cookie = (await context.cookies()).find((c) => c.name === 'nw_session');
    if (!cookie) throw new Error('no nw_session cookie after the sign-in link');

    // server render vs the JSON API, the same fleet, alternating blocks so load noise hits both
    const ui = { ms: [] as number[], bytes: 0 };
    const api = { ms: [] as number[], bytes: 0 };
    for (let b = 0; b < 3; b++) {
      const u = await timedGets(`${f.url}/ui/`, Math.ceil(requests / 3), { ca: f.caPem, headers: { cookie: `nw_session=${cookie.value}` } });
      const a = await timedGets(`${f.url}/v1/nodes`, Math.ceil(requests / 3), { ca: f.caPem, cert: f.operator.certPem, key: f.operator.keyPem });
      ui.ms.push(...u.ms);
      api.ms.push(...a.ms);
      ui.bytes = u.bytes;
      api.bytes = a.bytes;
    }
    const row = (name: string, r: { ms: number[]; bytes: number }) =>
      `  ${name.padEnd(26)} median ${median(r.ms).toFixed(1).padStart(6)} ms  p95 ${percentile(r.ms, 95).toFixed(1).padStart(6)} ms  ${(r.bytes / 1024).toFixed(0).padStart(5)} KiB  (${r.ms.length} requests)`;
    console.log(row('GET /ui/ (fleet page)', ui));
    console.log(row('GET /v1/nodes (baseline)', api));
    console.log(`  fleet page ÷ JSON API: ${(median(ui.ms) / median(api.ms)).toFixed(2)}× time, ${(ui.bytes / api.bytes).toFixed(2)}× bytes; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    // Chromium: DOMContentLoaded of the fleet page, navigation start → event end
    const dcl: number[] = [];
    const loaded: number[] = [];
    const received: number[] = [];
    const parsed: number[] = [];
    for (let i = 0; i < loads; i++) {
      await page.goto(`${f.url}/ui/`);
      const t = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { dcl: n.domContentLoadedEventEnd - n.startTime, load: n.loadEventEnd - n.startTime, received: n.responseEnd - n.startTime, parsed: n.domInteractive - n.startTime };
      });
      dcl.push(t.dcl);
      loaded.push(t.load);
      received.push(t.received);
      parsed.push(t.parsed);
    }
    // where the time goes: the last byte received, the document parsed (domInteractive), deferred scripts run (DOMContentLoaded)
    console.log(`  Chromium /ui/: DOMContentLoaded median ${median(dcl).toFixed(0)} ms (p95 ${percentile(dcl, 95).toFixed(0)}); last byte ${median(received).toFixed(0)} ms, parsed ${median(parsed).toFixed(0)} ms, load ${median(loaded).toFixed(0)} ms (medians, ${loads} loads); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    // an agent's state change reaching the open page
    await page.goto(`${f.url}/ui/`);
    await page.evaluate((node) => {
      const w = window as unknown as { nwChanges: { state: string; at: number }[] };
      w.nwChanges = [];
      const tile = document.querySelector(`a.tile[data-node="${node}"]`);
      if (!tile) throw new Error(`no tile for ${node}`);
      // live updates may replace the tile element: watch the whole document for its data-state
      new MutationObserver(() => {
        const s = document.querySelector(`a.tile[data-node="${node}"]`)?.getAttribute('data-state') ?? '';
        if (w.nwChanges.at(-1)?.state !== s) w.nwChanges.push({ state: s, at: performance.timeOrigin + performance.now() });
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    }, LIVE);
    const agent = f.agents.get(LIVE)!;
    const flipToPage: number[] = [];
    const flipToObs: number[] = [];
    const obsToPage: number[] = [];
    for (let i = 0; i < flips; i++) {
      const want = i % 2 === 0 ? 'degraded' : 'healthy';
      await new Promise((r) => setTimeout(r, 300 + Math.random() * POLL_INTERVAL_SEC * 1000)); // flips fall anywhere in the poll cycle
      const seen = await page.evaluate(() => (window as unknown as { nwChanges: unknown[] }).nwChanges.length);
      const flippedAt = Date.now();
      agent.override = want === 'degraded' ? rbdFailing : null;
      await page.waitForFunction(([n, s]) => (window as unknown as { nwChanges: { state: string }[] }).nwChanges.slice(n).some((c) => c.state === s), [seen, want] as const, { timeout: 10_000 });
      const at = await page.evaluate(([n, s]) => (window as unknown as { nwChanges: { state: string; at: number }[] }).nwChanges.slice(n).find((c) => c.state === s)!.at, [seen, want] as const);
      const events = ((await f.api('GET', '/v1/events?after=0&limit=10000')).json as { events: { at: string; kind: string; subject: string; data?: { to?: string } }[] }).events;
      const obs = events.filter((e) => e.kind === 'node.health' && e.subject === LIVE && e.data?.to === want && Date.parse(e.at) >= flippedAt - 5).at(-1);
      if (!obs) throw new Error(`no node.health event for ${LIVE} → ${want}`);
      flipToPage.push(at - flippedAt);
      flipToObs.push(Date.parse(obs.at) - flippedAt);
      obsToPage.push(at - Date.parse(obs.at));
    }
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(',');
    console.log(`  live: flip → page ${fmt(flipToPage)} ms (median ${median(flipToPage).toFixed(0)}); flip → observation ${fmt(flipToObs)} ms (poll every ${POLL_INTERVAL_SEC * 1000} ms); observation → page ${fmt(obsToPage)} ms (median ${median(obsToPage).toFixed(0)})`);

    const renderMs = median(ui.ms);
    const dclMs = median(dcl);
    const liveMs = median(flipToPage);
    console.log(`  server render median ${renderMs.toFixed(1)} ms (target ≤ ${RENDER_TARGET}) ${renderMs <= RENDER_TARGET ? 'PASS' : 'MISS'}; flip → page median ${liveMs.toFixed(0)} ms (target ≤ ${LIVE_TARGET}) ${liveMs <= LIVE_TARGET ? 'PASS' : 'MISS'}`);
    report({
      id: 'P10', metric: 'dom_content_loaded_ms_at_5000', value: Math.round(dclMs), unit: 'ms', op: '<=', target: RENDER_TARGET, size: { nodes: total },
      minSize: { nodes: NODES },
      also: [
        { name: 'server render median ≤ 300 ms', pass: renderMs <= RENDER_TARGET },
        { name: 'flip → page median ≤ 1000 ms', pass: liveMs <= LIVE_TARGET },
      ],
      extra: {
        serverRenderMs: { median: renderMs, p95: percentile(ui.ms, 95), bytes: ui.bytes }, apiNodesMs: { median: median(api.ms), p95: percentile(api.ms, 95), bytes: api.bytes },
        domContentLoadedMs: dcl, loadMs: loaded, responseEndMs: received, domInteractiveMs: parsed, pollIntervalMs: POLL_INTERVAL_SEC * 1000, flipToPageMs: flipToPage, flipToObservationMs: flipToObs, observationToPageMs: obsToPage,
      },
    });
  } finally {
    await closeBrowser();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
