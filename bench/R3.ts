// R3: hostile agents against a real controller. The built daemon (dist/controller/cli.js, a child
// process on a fresh `nodewright init`, polling fast) with N honest simulated agents
// (bench/sim-honest.ts) that a rollout is being rolled out to, and H hostile simulated agents
// (bench/sim-hostile.ts, enrolled through the real join API, in their own group with a rollout of
// their own, so push answers are hostile too) answering every poll and push with one of
// bench/hostile-responses.ts's kinds: generated shapes, `steps: null`, wrong types, huge arrays,
// endless and trickling bodies, resets mid-body, generations never signed, terminal escapes and
// control characters, garbage; two of them serve the certificate they held before `nodes remove`
// and a new join. A controller that dies is started again after 1 s (as systemd's Restart= would) and
// counted; one whose RSS passes the guard (BENCH_R3_RSS_GUARD_MIB, 2048) is killed and counted as a
// crash too (it would have died later, and the machine is shared). Runs until the hostile agents
// have answered BENCH_R3_RESPONSES (10,000) times or BENCH_R3_MAX_S (420) passed, then waits up to
// 90 s for the honest rollout. A controller that is not ready for 30 s is killed and counted as a
// crash (it never says READY=1: systemd would kill it at its start timeout and start it again).
// Sizes: BENCH_R3_HONEST (12), BENCH_R3_HOSTILE (80); BENCH_R3_KINDS (a comma list of
// hostile-responses.ts kinds) runs a subset.
// Last line: `R3 crashes=<n> responses=<N> honest_rollout=<state> rss_peak_mib=<m> (target crashes == 0) PASS|MISS`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadPublicKey } from '../protocol/keys.js';
import { freePort } from '../lab/ports.js';
import { CampaignController, rolloutDesired, rssMiB } from './campaign-controller.js';
import { writeResult } from './lib.js';
import { R3_MIN_RESPONSES, r3Verdict } from './r3-check.js';
import { HonestAgent } from './sim-honest.js';
import { HOSTILE_KINDS, type HostileKind } from './hostile-responses.js';
import { HostileAgent } from './sim-hostile.js';

const STALL_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (k: string, d: number) => Number(process.env[k] ?? d);

export async function run(): Promise<void> {
  const honestN = env('BENCH_R3_HONEST', 12);
  const hostileN = env('BENCH_R3_HOSTILE', 80);
  const oldCertN = 2;
  const wanted = env('BENCH_R3_RESPONSES', R3_MIN_RESPONSES);
  const maxMs = env('BENCH_R3_MAX_S', 420) * 1000;
  const guardMiB = env('BENCH_R3_RSS_GUARD_MIB', 2048);
  const kinds = process.env.BENCH_R3_KINDS ? (process.env.BENCH_R3_KINDS.split(',') as HostileKind[]) : HOSTILE_KINDS;
  const unknown = kinds.filter((k) => !HOSTILE_KINDS.includes(k));
  if (unknown.length) throw new Error(`BENCH_R3_KINDS: unknown kind(s) ${unknown.join(', ')}; known: ${HOSTILE_KINDS.join(', ')}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-r3-'));
  const ctl = await CampaignController.init(dir, { intervalSec: 0.1, rolloutIntervalSec: 0.25, timeoutSec: 2, maxBackoffSec: 1 });
  const honest: HonestAgent[] = [];
  const hostile: HostileAgent[] = [];
  const t0 = Date.now();
  let keepLogs = true;
  try {
    await ctl.start();
    const signingKey = loadPublicKey(ctl.signingPublicKeyPem);
    for (let i = 0; i < honestN; i++) {
      const port = await freePort();
      const e = await ctl.enroll(`honest-${i}`, 'honest', port);
      const a = new HonestAgent(e.name, 'honest', { ...e, caPem: ctl.caPem }, signingKey, 200);
      await a.listen(port);
      honest.push(a);
    }
    // enrolled first, listening only once both rollouts exist: the set-up itself is never hostile
    const quiet: { agent: HostileAgent; port: number }[] = [];
    for (let i = 0; i < hostileN; i++) {
      const port = await freePort();
      const name = `hostile-${i}`;
      const e = await ctl.enroll(name, 'hostile', port);
      let oldCert = false;
      if (i < oldCertN) {
        // the certificate of a removed node: still chains to the fleet CA, CN and role right
        await ctl.apiOk('DELETE', `/v1/nodes/${name}`);
        const again = await ctl.enroll(name, 'hostile', port);
        oldCert = again.certPem !== e.certPem;
        if (!oldCert) throw new Error('re-enrolment gave the same certificate');
      }
      quiet.push({ agent: new HostileAgent(name, { ...e, caPem: ctl.caPem }, { oldCert, kinds }), port });
    }
    console.log(`controller pid ${ctl.child?.pid} on ${ctl.url}; ${honestN} honest and ${hostileN} hostile agents (${oldCertN} with a removed node's certificate) enrolled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const honestRollout = await ctl.apiOk('POST', '/v1/rollouts', {
      group: 'honest',
      desired: rolloutDesired('r3-honest'),
      strategy: { steps: '1,25%', maxUnavailable: 1, minHealthy: '3s', gateTimeout: '120s' },
    });
    const hostileRollout = await ctl.api('POST', '/v1/rollouts', {
      group: 'hostile',
      desired: rolloutDesired('r3-hostile'),
      strategy: { steps: '100%', maxUnavailable: '100%', failureBudget: '100%', onFailure: 'skip', minHealthy: '1s', gateTimeout: '10s', autoRollback: false },
    });
    console.log(`rollout ${honestRollout.id} over the honest group; hostile group rollout: ${hostileRollout.status} ${hostileRollout.json?.id ?? hostileRollout.text.slice(0, 200)}`);
    for (const q of quiet) {
      await q.agent.listen(q.port);
      hostile.push(q.agent);
    }

    const responses = () => hostile.reduce((n, a) => n + a.responses, 0);
    let guardKills = 0;
    let stalls = 0;
    let lastPrint = Date.now();
    let readyAt = Date.now();
    let checkedAt = 0;
    while (responses() < wanted && Date.now() - t0 < maxMs) {
      await sleep(200);
      const pid = ctl.child?.pid;
      const m = pid && ctl.running ? rssMiB(pid) : null;
      if (m && m.rss > guardMiB) {
        guardKills++;
        await ctl.stop('SIGKILL');
        ctl.crashes++;
        console.log(`  controller RSS ${m.rss.toFixed(0)} MiB passed the ${guardMiB} MiB guard: killed (counted as a crash)`);
      }
      // a controller that stays unready this long never sends READY=1: systemd's start timeout would kill it
      if (ctl.running && Date.now() - checkedAt > 1000) {
        checkedAt = Date.now();
        if (await ctl.ready()) readyAt = Date.now();
        else if (Date.now() - readyAt > STALL_MS) {
          stalls++;
          await ctl.stop('SIGKILL');
          ctl.crashes++;
          console.log(`  controller not ready for ${STALL_MS / 1000} s: killed (counted as a crash)`);
        }
      }
      if (!ctl.running) {
        await sleep(1000); // RestartSec
        await ctl.start(false);
        readyAt = Date.now();
      }
      if (Date.now() - lastPrint > 15_000) {
        lastPrint = Date.now();
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${responses()} hostile responses, crashes ${ctl.crashes}, RSS ${m ? m.rss.toFixed(0) : '-'} MiB (peak ${ctl.rssPeakMiB.toFixed(0)}), load ${loadavg()[0].toFixed(2)}`);
      }
    }
    const hostileDone = responses();
    // the honest rollout's end: up to 90 s more (the hostile agents keep answering)
    let state = 'unknown';
    let stateReason = '';
    for (const end = Date.now() + 90_000; Date.now() < end; await sleep(500)) {
      if (!ctl.running) {
        await sleep(1000);
        await ctl.start(false);
        continue;
      }
      const r = await ctl.api('GET', `/v1/rollouts/${honestRollout.id}`).catch(() => null);
      if (r?.status === 200) (state = r.json.state), (stateReason = r.json.reason ?? '');
      if (['completed', 'aborted', 'paused'].includes(state)) break;
    }
    const nodes = (await ctl.api('GET', '/v1/nodes').catch(() => null))?.json?.nodes as { name: string; state?: string; health?: string }[] | undefined;
    const healthyHostile = (nodes ?? []).filter((n) => n.name.startsWith('hostile-') && (n.state ?? n.health) === 'healthy').map((n) => n.name);
    const byKind = new Map<string, number>();
    for (const a of hostile) for (const [k, v] of a.answered) byKind.set(k, (byKind.get(k) ?? 0) + v);
    console.log(`hostile answers by kind: ${[...byKind].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`controller: ${ctl.starts} start(s), ${ctl.crashes} crash(es) (${guardKills} at the RSS guard, ${stalls} never ready), RSS peak ${ctl.rssPeakMiB.toFixed(0)} MiB; hostile nodes the controller calls healthy: ${nodes ? healthyHostile.length ? healthyHostile.join(', ') : 'none' : 'unknown (no answer)'}`);
    const accepted = honest.map((a) => a.held?.generation ?? 'none');
    const refused = honest.flatMap((a) => a.refusals.map((r) => `${a.name} ${r.code}`));
    console.log(`honest agents hold generations ${accepted.join(' ')}; refusals: ${refused.length ? refused.join(', ') : 'none'}`);
    console.log(`honest rollout ${honestRollout.id}: ${state}${stateReason ? ` (${stateReason})` : ''}; total ${((Date.now() - t0) / 1000).toFixed(0)} s; controller log ${ctl.log}`);
    if (ctl.crashes) {
      const tail = readFileSync(ctl.log, 'utf8').split('\n').filter((l) => /error|Error|exited on its own/.test(l)).slice(-4);
      for (const l of tail) console.log(`  log: ${l.slice(0, 300)}`);
    }
    const result = { crashes: ctl.crashes, responses: hostileDone, honestRollout: state, rssPeakMiB: ctl.rssPeakMiB };
    const v = r3Verdict(result);
    keepLogs = !v.pass;
    writeResult('R3', { ...result, pass: v.pass, guardKills, stalls, starts: ctl.starts, byKind: Object.fromEntries(byKind), healthyHostile, honestN, hostileN });
    console.log(v.line);
  } finally {
    await ctl.close();
    await Promise.all([...honest, ...hostile].map((a) => a.close()));
    if (keepLogs) console.log(`kept ${dir} (controller.log, state)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
