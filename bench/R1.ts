// R1 — kill -9 campaign. The real `nodewright-agent apply` is killed with SIGKILL at ≥ 1,000
// distinct points during an apply, then restarted (`apply` again: recovery pass first), and the
// worker is judged (bench/r1-check.ts): no half-written managed file, unit files parse, systemd
// agrees (NeedDaemonReload=no), the running kubelet is a known-good build, the status is true.
//
// Points: kill delays spread evenly over each scenario's apply duration (measured first, median
// of 3), on a sandbox --root with a systemctl stand-in (bench/r1-sandbox.ts):
//   swap      old keyring/ceph.conf, kubelet.service without the keyring mount, kubelet v1
//             → gen 1: keyring + ceph.conf write, unit edit + daemon-reload + restart + read-back,
//               kubelet v2 fetch/stage/keep previous/rename/restart/health gate;
//   rollback  converged at v2 → gen 2 with a broken v3: stage/rename/restart/gate fails/rollback to v2.
// Plus a few dozen points in a real systemd worker container (bench/r1-worker.ts), where
// systemd itself answers NeedDaemonReload and runs the kubelet stand-in.
// A trial chains up to R1_CHAIN kills: the restart after a kill is killed again (a kill during the
// recovery pass), then the last restart runs to the end and the worker is judged.
//   npm run bench -- R1        R1_KILLS (1100 sandbox kills planned), R1_WORKER_KILLS (40),
//                              R1_CONCURRENCY (3), R1_CHAIN (3), R1_BUDGET_S (1500: no new trial after)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, report } from './lib.js';
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
import { runWorkerPoints, type WorkerOutcome } from './r1-worker.js';

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
  for (let i = 0; i < 3; i++) {
    if (last) rmSync(last.endDir, { recursive: true, force: true });
    const id = `ref-${name}-${i}`;
    const dir = path.join(base.dir, 'trials', id);
    copyTree(template, dir);
    writeTrialConfig(base, dir, id);
    const before = snapshot(dir).files;
    const r = await runApply(dir, bundle);
    times.push(r.ms);
    const lr = (JSON.parse(r.stdout) as { lastReconcile?: { at: string; durationMs: number } }).lastReconcile;
    if (lr) reconcileAt.push(Date.parse(lr.at) - lr.durationMs - r.startedAt);
    const scenario = scenarioFrom(name, base, before, snapshot(dir).files, desiredV);
    const problems = restartProblems(scenario, afterRestart(dir, r));
    if (r.exitCode !== expectExit || problems.length) {
      throw new Error(`R1 reference run of ${name} is not what the campaign assumes (exit ${r.exitCode}, want ${expectExit}): ${problems.join('; ')}\n${r.stdout}\n${r.stderr}`);
    }
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

export async function run(): Promise<void> {
  const t0 = Date.now();
  const planned = num('R1_KILLS', 1100);
  const workerKills = num('R1_WORKER_KILLS', 40);
  const concurrency = num('R1_CONCURRENCY', 3);
  const chain = num('R1_CHAIN', 3);
  const stopAt = t0 + num('R1_BUDGET_S', 1500) * 1000;
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
    const campaigns: Campaign[] = [
      { scenario: refA.scenario, template: swapTemplate, bundle: bundleA, durationMs: refA.durationMs, reconcileAtMs: refA.reconcileAtMs },
      { scenario: refB.scenario, template: rollbackTemplate, bundle: bundleB, durationMs: refB.durationMs, reconcileAtMs: refB.reconcileAtMs },
    ];
    for (const c of campaigns) {
      console.log(`R1: ${c.scenario.name} apply takes ${Math.round(c.durationMs)} ms unkilled (reconcile from ${Math.round(c.reconcileAtMs)} ms), medians of 3`);
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

    let worker: WorkerOutcome | null = null;
    if (workerKills > 0) {
      worker = await runWorkerPoints(workerKills);
      tally.kills += worker.kills;
      tally.inconsistent += worker.inconsistent;
      tally.failures.push(...worker.failures);
      console.log(`R1 systemd worker: ${worker.kills} kills in ${worker.seconds.toFixed(0)} s, ${worker.inconsistent} inconsistent (${worker.summary})`);
    }
    for (const f of tally.failures.slice(0, 10)) console.log(`  INCONSISTENT ${f.where} kill at ${f.delayMs} ms (${f.progress}): ${f.problems.join(' | ')}${f.dir ? ` [kept: ${f.dir}]` : ''}`);
    if (tally.failures.some((f) => f.dir)) keepBase = true;
    console.log(
      `R1: ${tally.notConverged} swap restarts did not converge, ${tally.leftovers} left temp/staging files next to managed files; total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    report({
      id: 'R1',
      metric: 'inconsistent',
      value: tally.inconsistent,
      unit: '',
      op: '==',
      target: 0,
      size: { kills: tally.kills },
      minSize: { kills: 1000 },
      extra: {
        durationsMs: { swap: Math.round(refA.durationMs), rollback: Math.round(refB.durationMs) },
        reconcileAtMs: { swap: Math.round(refA.reconcileAtMs), rollback: Math.round(refB.reconcileAtMs) },
        agent: AGENT_CLI,
        sandbox: { trials: ran, kills: tally.kills - (worker?.kills ?? 0), missed: tally.missed, seconds: Math.round(sandboxS), concurrency, chain },
        worker,
        progress: tally.progress,
        notConverged: tally.notConverged,
        leftovers: tally.leftovers,
        failures: tally.failures.slice(0, 50),
        seconds: Math.round((Date.now() - t0) / 1000),
      },
    });
  } finally {
    await base.close();
    if (!keepBase) rmSync(base.dir, { recursive: true, force: true });
  }
}
