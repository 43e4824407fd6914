// R1 — kill -9 campaign, two parts run side by side; each kill lands at its own point of an apply,
// then the agent is restarted (its recovery pass first) and the worker is judged (bench/r1-check.ts):
// no half-written managed file, unit files parse, systemd agrees (NeedDaemonReload=no), the running
// kubelet is a known-good build, the status is true.
//
// Sandbox part (≥ 1,000 kills): the real `nodewright-agent apply` on a sandbox --root with a
// systemctl stand-in (bench/r1-sandbox.ts), kill delays spread evenly over each scenario's apply
// duration (measured first, median of 3):
//   swap      old keyring/ceph.conf, kubelet.service without the keyring mount, kubelet v1
//             → gen 1: keyring + ceph.conf write, unit edit + daemon-reload + restart + read-back,
//               kubelet v2 fetch/stage/keep previous/rename/restart/health gate;
//   rollback  converged at v2 → gen 2 with a broken v3: stage/rename/restart/gate fails/rollback to v2.
// A trial chains up to R1_CHAIN kills: the restart after a kill is killed again (a kill during the
// recovery pass), then the last restart runs to the end and the worker is judged.
//
// Worker part (≥ 40 kills, bench/r1-worker.ts): the points that need systemd, in real systemd
// worker containers booted by lab/worker (the agent as nodewright-agent.service, killed with SIGKILL
// at offsets from the reconcile's start or after a lab phase hook, restarted by systemd), judged by
// the real systemd (NeedDaemonReload, Environment against the unit files, kubelet.service's process).
//
//   npm run bench -- R1   R1_KILLS (1300 sandbox kills planned: a chained kill
//                         after its restart ended does not count), R1_CONCURRENCY (3), R1_CHAIN (3),
//                         R1_WORKERS (2 containers; 0 skips the part, then R1 is a MISS),
//                         R1_WORKER_KILLS (50 planned: some applies end before their kill), R1_BUDGET_S (1200: no new trial after)
// Lines: `R1-worker inconsistent=… kills=…`, then `R1 inconsistent=<n> kills=<sandbox + worker>`;
// R1 passes when both parts are consistent, the worker part has ≥ 40 kills and the total ≥ 1,000.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, report } from './lib.js';
import { runWorkerPart, type WorkerPart } from './r1-worker.js';
import { fileProblems, progressOf, restartProblems, type Digest, type Scenario } from './r1-check.js';
import {
  KEYRING,
  CEPH_CONF,
  KUBELET,
  UNIT,
  AGENT_CLI,
  afterRestart,
  copyTree,
  desired,
  makeBase,
  makeSwapTemplate,
  runApply,
  useBundledAgent,
  type ApplyRun,
  snapshot,
  writeTrialConfig,
  type R1Base,
} from './r1-sandbox.js';

interface Campaign {
  scenario: Scenario;
  template: string;
  bundle: string;
  durationMs: number;
  /** When the reconcile starts, from spawn (the rest before it is Node start-up, config, accept). */
  reconcileAtMs: number;
}

export interface Failure {
  where: string;
  delayMs: number;
  progress: string;
  problems: string[];
  dir?: string;
}

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);

function scenarioFrom(name: string, base: R1Base, before: Record<string, Digest>, after: Record<string, Digest>, desiredV: 'v2' | 'v3'): Scenario {
  const allowed: Record<string, Digest[]> = {};
  for (const p of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const vs: Digest[] = [before[p] ?? null, after[p] ?? null];
    if (p === KUBELET) vs.push(base.builds[desiredV].build.sha256);
    allowed[p] = [...new Set(vs)];
  }
  return {
    name,
    allowed,
    converged: after,
    builds: Object.values(base.builds).map((b) => b.build),
    expectKubelet: base.builds.v2.build.sha256,
    desiredKubelet: base.builds[desiredV].build.sha256,
    kubeletPath: KUBELET,
    keyringPaths: [KEYRING, CEPH_CONF],
    unitPaths: Object.keys(after).filter((p) => p === UNIT || p.startsWith(`${UNIT}.d/`)),
    rktMustContain: `--volume ceph-keyring,kind=host,source=${KEYRING}`,
  };
}

/** Apply without a kill 3 times on copies of the template: duration, end state (last copy kept), a sanity check. */
async function reference(base: R1Base, name: string, template: string, bundle: string, desiredV: 'v2' | 'v3', expectExit: number) {
  const times: number[] = [];
  const reconcileAt: number[] = [];
  let last: { scenario: Scenario; endDir: string } | null = null;
  // 3 good runs; on this shared machine a health check can time out, so up to 3 more tries.
  for (let i = 0, bad = 0; times.length < 3; i++) {
    if (last) rmSync(last.endDir, { recursive: true, force: true });
    last = null;
    const id = `ref-${name}-${i}`;
    const dir = path.join(base.dir, 'trials', id);
    copyTree(template, dir);
    writeTrialConfig(base, dir, id);
    const before = snapshot(dir).files;
    const r = await runApply(dir, bundle);
    const lr = afterRestart(dir, r).status as { lastReconcile?: { at: string; durationMs: number } } | null;
    if (lr?.lastReconcile) reconcileAt.push(Date.parse(lr.lastReconcile.at) - lr.lastReconcile.durationMs - r.startedAt);
    const scenario = scenarioFrom(name, base, before, snapshot(dir).files, desiredV);
    const problems = restartProblems(scenario, afterRestart(dir, r));
    if ((r.exitCode !== expectExit || problems.length) && ++bad <= 3) {
      process.stderr.write(`R1: reference run of ${name} exited ${r.exitCode} (${problems.join('; ') || 'want ' + expectExit}); trying again\n`);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (r.exitCode !== expectExit || problems.length) {
      throw new Error(`R1 reference run of ${name} is not what the campaign assumes (exit ${r.exitCode}, want ${expectExit}): ${problems.join('; ')}\n${r.stderr.slice(-2000)}`);
    }
    times.push(r.ms);
    last = { scenario, endDir: dir };
  }
  return { durationMs: median(times), reconcileAtMs: reconcileAt.length ? median(reconcileAt) : 0, ...last! };
}

interface Tally {
  kills: number;
  missed: number;
  inconsistent: number;
  notConverged: number;
  leftovers: number;
  progress: Record<string, number>;
  failures: Failure[];
}

/**
 * One trial: kill the apply at `delays[0]`; restart it and (a chain) kill the restart too at the
 * next delays — a kill during the recovery pass is a point of its own —, then let the last restart
 * finish. The files are judged after every kill, the whole worker after the last restart.
 */
async function trial(base: R1Base, c: Campaign, i: number, delays: number[], t: Tally): Promise<void> {
  const id = `${c.scenario.name}-${i}`;
  const dir = path.join(base.dir, 'trials', id);
  copyTree(c.template, dir);
  writeTrialConfig(base, dir, id);
  const problems: string[] = [];
  const progress: string[] = [];
  const outputs: string[] = [];
  let last: ApplyRun | null = null;
  for (const [k, delayMs] of delays.entries()) {
    const r = await runApply(dir, c.bundle, delayMs);
    outputs.push(`run ${k + 1} (kill at ${Math.round(delayMs)} ms): exit ${r.exitCode} ${r.signal ?? ''}\n${r.stderr}`);
    if (!r.killed) {
      if (k === 0) {
        t.missed++;
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      last = r;
      break;
    }
    t.kills++;
    const s = snapshot(dir);
    const where = `${c.scenario.name} kill ${k + 1}: ${progressOf(c.scenario, s, s.inflight)}`;
    progress.push(where);
    t.progress[where] = (t.progress[where] ?? 0) + 1;
    problems.push(...fileProblems(c.scenario, s).map((p) => `after kill ${k + 1} at ${Math.round(delayMs)} ms: ${p}`));
  }
  last ??= await runApply(dir, c.bundle);
  outputs.push(`last restart: exit ${last.exitCode}\nstdout:\n${last.stdout}\nstderr:\n${last.stderr}`);
  const a = afterRestart(dir, last);
  problems.push(...restartProblems(c.scenario, a).map((p) => `after the restart: ${p}`));
  if (a.leftovers.length) t.leftovers++;
  if (c.scenario.name === 'swap' && !a.status?.converged) t.notConverged++;
  if (problems.length) {
    t.inconsistent++;
    const keep = t.failures.length < 10;
    t.failures.push({ where: `sandbox ${c.scenario.name}`, delayMs: Math.round(delays[0]), progress: progress.join(' → '), problems, ...(keep ? { dir } : {}) });
    if (keep) {
      writeFileSync(path.join(dir, 'r1-outputs.txt'), outputs.join('\n\n'));
      return;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>, stopAt: number): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < stopAt) {
      const x = items[next++];
      await fn(x);
      done++;
      if (done % 25 === 0) process.stderr.write(`R1: ${done}/${items.length} trials\n`);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return done;
}

interface SandboxPart {
  tally: Tally;
  ran: number;
  planned: number;
  seconds: number;
  concurrency: number;
  chain: number;
  durationsMs: Record<string, number>;
  reconcileAtMs: Record<string, number>;
}

/** `measured` is called once the reference applies are timed (the worker part waits for it: its boot would slow them). */
async function sandboxPart(t0: number, stopAt: number, measured: () => void): Promise<SandboxPart> {
  const planned = num('R1_KILLS', 1300);
  const concurrency = num('R1_CONCURRENCY', 3);
  const chain = num('R1_CHAIN', 3);
  if (process.env.R1_BUNDLE !== '0') useBundledAgent();
  const base = await makeBase(mkdtempSync(path.join(os.tmpdir(), 'nw-r1-')));
  let keepBase = false;
  try {
    const swapTemplate = path.join(base.dir, 'template-swap');
    makeSwapTemplate(base, swapTemplate);
    const bundleA = path.join(base.dir, 'bundle-gen1.json');
    writeFileSync(bundleA, JSON.stringify(base.sign(desired(base, 1, 'v2'))));
    const bundleB = path.join(base.dir, 'bundle-gen2.json');
    writeFileSync(bundleB, JSON.stringify(base.sign(desired(base, 2, 'v3'))));

    const refA = await reference(base, 'swap', swapTemplate, bundleA, 'v2', 0);
    const rollbackTemplate = path.join(base.dir, 'template-rollback');
    copyTree(refA.endDir, rollbackTemplate);
    rmSync(refA.endDir, { recursive: true, force: true });
    const refB = await reference(base, 'rollback', rollbackTemplate, bundleB, 'v3', 1);
    rmSync(refB.endDir, { recursive: true, force: true });
    measured();
    const campaigns: Campaign[] = [
      { scenario: refA.scenario, template: swapTemplate, bundle: bundleA, durationMs: refA.durationMs, reconcileAtMs: refA.reconcileAtMs },
      { scenario: refB.scenario, template: rollbackTemplate, bundle: bundleB, durationMs: refB.durationMs, reconcileAtMs: refB.reconcileAtMs },
    ];
    for (const c of campaigns) {
      console.log(`R1 sandbox: ${c.scenario.name} apply takes ${Math.round(c.durationMs)} ms unkilled (reconcile from ${Math.round(c.reconcileAtMs)} ms), medians of 3`);
    }

    // Points in proportion to each apply's working time, evenly spaced: 90% from 600 ms before the
    // reconcile starts (accept, recovery pass) to the end, 10% over Node start-up and config before it.
    const work = (c: Campaign) => c.durationMs - Math.max(0, c.reconcileAtMs - 600);
    const total = campaigns.reduce((a, c) => a + work(c), 0);
    const points: { c: Campaign; i: number; delayMs: number }[] = [];
    for (const c of campaigns) {
      const n = Math.round((planned * work(c)) / total / chain);
      const from = Math.max(0, c.reconcileAtMs - 600);
      const early = Math.round(n * 0.1);
      for (let i = 0; i < early; i++) points.push({ c, i, delayMs: ((i + 0.5) * from) / early });
      for (let i = early; i < n; i++) points.push({ c, i, delayMs: from + ((i - early + 0.5) * (c.durationMs - from)) / (n - early) });
    }
    // Interleave scenarios and delays so a budget stop still leaves an even spread.
    points.sort((a, b) => ((a.i * 7919) % 1009) - ((b.i * 7919) % 1009) || a.c.scenario.name.localeCompare(b.c.scenario.name));
    const tally: Tally = { kills: 0, missed: 0, inconsistent: 0, notConverged: 0, leftovers: 0, progress: {}, failures: [] };
    const tS = Date.now();
    // The chained kills of a trial: other delays of the same spread (golden-ratio steps), so every
    // kill of the campaign is at its own point.
    const chainDelays = (p: { c: Campaign; i: number; delayMs: number }) => {
      const out = [p.delayMs];
      for (let k = 1; k < chain; k++) out.push((((p.i + 1) * 0.618034 * (k + 1)) % 1) * p.c.durationMs);
      return out;
    };
    const ran = await pool(points, concurrency, (p) => trial(base, p.c, p.i, chainDelays(p), tally), stopAt);
    const sandboxS = (Date.now() - tS) / 1000;
    console.log(`R1 sandbox: ${ran}/${points.length} trials run in ${sandboxS.toFixed(0)} s: ${tally.kills} kills (up to ${chain} a trial), ${tally.missed} applies finished before their first kill`);
    for (const [k, v] of Object.entries(tally.progress).sort()) console.log(`  ${k.padEnd(48)} ${v}`);

    for (const f of tally.failures.slice(0, 10)) console.log(`  INCONSISTENT ${f.where} kill at ${f.delayMs} ms (${f.progress}): ${f.problems.join(' | ')}${f.dir ? ` [kept: ${f.dir}]` : ''}`);
    if (tally.failures.some((f) => f.dir)) keepBase = true;
    console.log(
      `R1 sandbox: ${tally.notConverged} swap restarts did not converge, ${tally.leftovers} left temp/staging files next to managed files; done at ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    return {
      tally,
      ran,
      planned,
      seconds: Math.round(sandboxS),
      concurrency,
      chain,
      durationsMs: { swap: Math.round(refA.durationMs), rollback: Math.round(refB.durationMs) },
      reconcileAtMs: { swap: Math.round(refA.reconcileAtMs), rollback: Math.round(refB.reconcileAtMs) },
    };
  } finally {
    await base.close();
    if (!keepBase) rmSync(base.dir, { recursive: true, force: true });
  }
}

/** The worker part (bench/r1-worker.ts): its failures are kept under its dir, which is removed when there are none. */
async function workerPart(stopAt: number): Promise<WorkerPart | null> {
  const workers = num('R1_WORKERS', 2);
  if (workers <= 0) {
    console.log('R1 worker: skipped (R1_WORKERS=0): R1 is a MISS without it');
    return null;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-r1-worker-'));
  const w = await runWorkerPart({ kills: num('R1_WORKER_KILLS', 50), workers, dir, stopAt, log: (s) => console.log(s) });
  console.log(`R1 worker: ${w.trials} trials in ${w.seconds} s on ${w.workers} container(s): ${w.kills} kills, ${w.missed} applies finished before the kill, ${w.notConverged} swap restarts did not converge, ${w.errors.length} trials not carried out`);
  for (const e of w.errors) console.log(`  NOT CARRIED OUT ${e}`);
  for (const [k, v] of Object.entries(w.progress).sort()) console.log(`  ${k.padEnd(48)} ${v}`);
  for (const f of w.failures.slice(0, 10)) console.log(`  INCONSISTENT ${f.where} (${f.progress}): ${f.problems.join(' | ')}${f.journal ? ` [journal: ${f.journal}]` : ''}`);
  if (!w.failures.length) rmSync(dir, { recursive: true, force: true });
  return w;
}

export async function run(): Promise<void> {
  const t0 = Date.now();
  const stopAt = t0 + num('R1_BUDGET_S', 1200) * 1000;
  // The worker containers wait on systemd, health gates and restarts much of the time: they run
  // alongside the sandbox trials, once the sandbox's reference applies are timed.
  let measured = () => {};
  const references = new Promise<void>((r) => (measured = r));
  const sandbox = sandboxPart(t0, stopAt, () => measured());
  sandbox.catch(() => measured());
  const [sb, wk] = await Promise.all([
    sandbox,
    references.then(() => workerPart(stopAt)).catch((e: Error) => {
      console.log(`R1 worker: failed: ${e.message}`);
      return null;
    }),
  ]);
  const t = sb.tally;
  report({
    id: 'R1-worker',
    metric: 'inconsistent',
    value: wk?.inconsistent ?? 0,
    unit: '',
    op: '==',
    target: 0,
    size: { kills: wk?.kills ?? 0 },
    minSize: { kills: 40 },
    also: [{ name: 'trials carried out', pass: Boolean(wk && wk.errors.length === 0) }],
    extra: wk ? { ...wk, failures: wk.failures.slice(0, 50) } : { skipped: true },
  });
  const workerOk = Boolean(wk && wk.inconsistent === 0 && wk.errors.length === 0 && wk.kills >= 40);
  report({
    id: 'R1',
    metric: 'inconsistent',
    value: t.inconsistent + (wk?.inconsistent ?? 0),
    unit: '',
    op: '==',
    target: 0,
    size: { kills: t.kills + (wk?.kills ?? 0) },
    minSize: { kills: 1000 },
    also: [{ name: 'R1-worker', pass: workerOk }],
    extra: {
      durationsMs: sb.durationsMs,
      reconcileAtMs: sb.reconcileAtMs,
      agent: AGENT_CLI,
      sandbox: { trials: sb.ran, planned: sb.planned, kills: t.kills, missed: t.missed, seconds: sb.seconds, concurrency: sb.concurrency, chain: sb.chain, inconsistent: t.inconsistent },
      worker: wk ? { kills: wk.kills, inconsistent: wk.inconsistent, errors: wk.errors.length, trials: wk.trials, seconds: wk.seconds, containers: wk.workers } : null,
      progress: t.progress,
      notConverged: t.notConverged,
      leftovers: t.leftovers,
      failures: t.failures.slice(0, 50),
      seconds: Math.round((Date.now() - t0) / 1000),
    },
  });
}
