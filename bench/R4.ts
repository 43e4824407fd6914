// R4: kill -9 the controller during rollouts, again and again. The built daemon
// (dist/controller/cli.js, a child process on a fresh `nodewright init`) rolls out one rollout after
// another over N honest simulated agents (bench/sim-honest.ts: the agent's acceptance rules, every
// bundle recorded as accepted-as-new, idempotent or refused), each rollout with its own content
// (kubelet image tag r4-<k>). The controller is killed with SIGKILL at a random point 0–1.5 s after
// each start (during its recovery, a push, a gate, a rollout's creation …) and started again at
// once, until BENCH_R4_KILLS (300) kills; then it runs undisturbed for up to 90 s so the last rollout
// can finish. A create in doubt (killed before it answered) is looked up in the store after the
// restart: a new id is that rollout, none means it was never made and is sent again.
// bench/r4-check.ts judges the agents' records, the rollouts' final states and the audit log.
// BENCH_R4_NODES (8), BENCH_R4_MAX_S (540: no new kill after).
// Last line: `R4 double_pushes=<n> lost=<n> stuck=<n> kills=<N> missing_events=<n> (target 0) PASS|MISS`.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../lab/ports.js';
import { loadPublicKey } from '../protocol/keys.js';
import { CampaignController, rolloutDesired } from './campaign-controller.js';
import { writeResult } from './lib.js';
import { r4Counts, r4Verdict, R4_MIN_KILLS, type RolloutRecord } from './r4-check.js';
import { HonestAgent } from './sim-honest.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const FINISHED = ['completed', 'aborted'];

interface Tracked {
  id: string;
  marker: string;
  confirmed: boolean;
}

export async function run(): Promise<void> {
  const n = env('BENCH_R4_NODES', 8);
  const wantedKills = env('BENCH_R4_KILLS', R4_MIN_KILLS);
  const maxMs = env('BENCH_R4_MAX_S', 540) * 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-r4-'));
  const ctl = await CampaignController.init(dir, { intervalSec: 0.5, rolloutIntervalSec: 0.2, timeoutSec: 2, maxBackoffSec: 1 });
  const agents: HonestAgent[] = [];
  const t0 = Date.now();
  let keep = true;
  try {
    await ctl.start();
    const signingKey = loadPublicKey(ctl.signingPublicKeyPem);
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const e = await ctl.enroll(`node-${i}`, 'fleet', port);
      const a = new HonestAgent(e.name, 'fleet', { ...e, caPem: ctl.caPem }, signingKey, 150);
      await a.listen(port);
      agents.push(a);
    }
    console.log(`controller on ${ctl.url}; ${n} simulated agents enrolled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const rollouts: Tracked[] = [];
    let current: Tracked | null = null;
    let inDoubt: { marker: string; known: Set<string> } | null = null;
    let next = 0;
    let killing = true;
    let paused = 0;
    // The operator: one rollout at a time; API calls fail while the controller is down and are retried.
    const drive = async () => {
      while (killing || ((current !== null || inDoubt !== null) && Date.now() - t0 < maxMs + 90_000)) {
        await sleep(100);
        try {
          if (inDoubt) {
            const r = await ctl.api('GET', '/v1/rollouts');
            if (r.status !== 200) continue;
            const fresh = (r.json.rollouts as { id: string }[]).filter((x) => !inDoubt!.known.has(x.id));
            if (fresh.length > 1) throw new Error(`more than one new rollout after a create in doubt: ${fresh.map((x) => x.id).join(', ')}`);
            if (fresh.length === 1) rollouts.push((current = { id: fresh[0].id, marker: inDoubt.marker, confirmed: false }));
            inDoubt = null;
            continue;
          }
          if (!current) {
            if (!killing) return;
            const marker = `r4-${next++}`;
            const r = await ctl.api('POST', '/v1/rollouts', { group: 'fleet', desired: rolloutDesired(marker), strategy: { steps: '1,50%', maxUnavailable: 2, minHealthy: '0.5s', gateTimeout: '10m' } }).catch(() => null);
            if (r && r.status >= 200 && r.status < 300) rollouts.push((current = { id: r.json.id as string, marker, confirmed: true }));
            else if (r && r.status >= 400 && r.status < 500) throw new Error(`rollout start refused: ${r.status} ${r.text.slice(0, 300)}`);
            else inDoubt = { marker, known: new Set(rollouts.map((x) => x.id)) };
            continue;
          }
          const r = await ctl.api('GET', `/v1/rollouts/${current.id}`);
          if (r.status !== 200) continue;
          if (FINISHED.includes(r.json.state)) current = null;
          else if (r.json.state === 'paused') {
            // stuck: say so, abort it so the campaign goes on (r4-check counts it)
            paused++;
            console.log(`  rollout ${current.id} paused: ${r.json.reason}`);
            await ctl.api('POST', `/v1/rollouts/${current.id}/abort`, {});
          }
        } catch (e) {
          if (/refused|more than one/.test((e as Error).message)) throw e;
        }
      }
    };
    const driving = drive();
    let kills = 0;
    let lastPrint = Date.now();
    while (kills < wantedKills && Date.now() - t0 < maxMs) {
      await sleep(Math.random() * 1500);
      await ctl.stop('SIGKILL');
      kills++;
      await ctl.start(false);
      if (Date.now() - lastPrint > 15_000) {
        lastPrint = Date.now();
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${kills} kills, ${rollouts.length} rollouts, crashes ${ctl.crashes}, load ${loadavg()[0].toFixed(2)}`);
      }
    }
    killing = false;
    // undisturbed: the last rollout finishes (or is found stuck)
    const settle = Date.now();
    while (!(await ctl.ready()) && Date.now() - settle < 60_000) await sleep(100);
    await Promise.race([driving, sleep(90_000)]);
    const finals: RolloutRecord[] = [];
    for (const r of rollouts) {
      const a = await ctl.api('GET', `/v1/rollouts/${r.id}`);
      finals.push({ ...r, final: a.status === 200 ? { state: a.json.state, nodes: a.json.nodes } : null });
    }
    const events = await ctl.events();
    const counts = r4Counts(
      agents.map((a) => ({ name: a.name, accepted: [...a.accepted.values()], refusals: a.refusals })),
      finals,
      events.map((e) => ({ kind: e.kind, subject: e.subject, data: e.data as { rollout?: unknown } })),
    );
    const byState = new Map<string, number>();
    for (const f of finals) byState.set(f.final?.state ?? 'gone', (byState.get(f.final?.state ?? 'gone') ?? 0) + 1);
    const stale = agents.reduce((s, a) => s + a.refusals.filter((r) => r.code === 'NW_STALE').length, 0);
    console.log(`${rollouts.length} rollouts (${rollouts.filter((r) => !r.confirmed).length} found after a create in doubt): ${[...byState].map(([k, v]) => `${v} ${k}`).join(', ')}; ${paused} paused and aborted`);
    console.log(`agents: ${counts.fresh} bundles accepted as new, ${counts.idempotent} the same again (idempotent), ${stale} refused as stale; ${events.length} audit events`);
    console.log(`controller: ${ctl.starts} starts, ${ctl.crashes} exits on its own, RSS peak ${ctl.rssPeakMiB.toFixed(0)} MiB; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const d of counts.details) console.log(`  ${d}`);
    const v = r4Verdict(counts, kills);
    keep = !v.pass;
    const { details, ...numbers } = counts;
    writeResult('R4', { ...numbers, kills, pass: v.pass, rollouts: rollouts.length, byState: Object.fromEntries(byState), crashes: ctl.crashes, details, nodes: n });
    console.log(v.line);
  } finally {
    await ctl.close();
    await Promise.all(agents.map((a) => a.close()));
    if (keep) console.log(`kept ${dir} (controller.log, state)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
