// R1's worker part: the kill points that need systemd, in real systemd worker containers booted by
// the project's lab (bench/r1-worker-lab.ts). The agent is the one the lab installs
// (/usr/local/bin/nodewright-agent as nodewright-agent.service); a trial
//   1. resets the worker to a scenario's start (files, state dir, kubelet restarted, agent started),
//   2. POSTs the scenario's signed bundle and SIGKILLs the agent's main process at a point: a time
//      offset from the 202 (the reconcile starts), or an offset after a lab phase hook paused the
//      change (artifact:staged, artifact:swapped, unit:written — /etc/nodewright/lab-hooks.json),
//      and on some trials kills the restarted agent again during its recovery pass,
//   3. lets systemd restart it (Restart=on-failure), waits for the recovery pass and its reconcile,
//   4. judges with the real systemd: bench/r1-check.ts restartProblems + workerProblems.
// Scenarios, as in the sandbox part:
//   swap      no keyring, seed-shaped kubelet.service, kubelet v1 → gen 1: keyring + ceph.conf,
//             unit bind mount + daemon-reload + restart + read-back, kubelet v2 stage/rename/restart/gate;
//   rollback  converged on gen 1 → gen 2 with the broken v3: stage/rename/restart/gate fails/rollback.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadPrivateKey, signBundle } from '../protocol/bundle.js';
import { createHost } from '../host/index.js';
import { loadUnitSources } from '../systemd/sources.js';
import { effectiveEnvironment } from '../systemd/environment.js';
import { parseShowEnvironment } from '../systemd/show.js';
import { fileProblems, progressOf, restartProblems, versionLine, workerProblems, type AfterRestart, type Build, type Digest, type Scenario } from './r1-check.js';
import { CEPH_CONF, KEYRING, KUBELET, NEW_KEYRING, UNIT, snapshotRoot } from './r1-sandbox.js';
import { AGENT_UNIT, WorkerLab, labMissing, makeShare, poll, sleep } from './r1-worker-lab.js';

type ScenarioName = 'swap' | 'rollback';
type Anchor = 'start' | 'artifact:staged' | 'artifact:swapped' | 'unit:written';
const HOOK_PHASE: Record<Exclude<Anchor, 'start'>, string> = { 'artifact:staged': 'staged', 'artifact:swapped': 'swapped', 'unit:written': 'written' };
/** How long a phase hook holds the change; kill offsets after a hook run past it. */
const PAUSE_MS = 1200;
const NODE_GROUP = 'r1';
const HEALTH_TIMEOUT_SEC = 5;

export interface Point {
  scenario: ScenarioName;
  anchor: Anchor;
  offsetMs: number;
  /** Kill the restarted agent again this long after systemd started it (its recovery pass). */
  chainMs?: number;
}

export interface WorkerFailure {
  where: string;
  progress: string;
  problems: string[];
  journal?: string;
}

export interface WorkerPart {
  workers: number;
  trials: number;
  kills: number;
  missed: number;
  inconsistent: number;
  /** Trials the bench could not carry out (a reset or the lab failed): the part is a MISS with any. */
  errors: string[];
  notConverged: number;
  progress: Record<string, number>;
  failures: WorkerFailure[];
  durationsMs: Record<string, number>;
  seconds: number;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** /usr/local/bin of a worker holds much else (the host's /usr): only the kubelet's files are R1's. */
const watch = (dir: string, name: string) => dir !== '/usr/local/bin' || name === 'kubelet' || name.startsWith('kubelet.');

function desiredOf(generation: number, build: { version: string; sha256: string; size: number }) {
  return {
    schema: 1,
    generation,
    nodeGroup: NODE_GROUP,
    runtime: 'rkt',
    packages: { policy: 'auto' },
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: NEW_KEYRING },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING, target: KEYRING, readOnly: true }] },
    kubelet: { kind: 'binary', ...build, url: `file:///lab/kubelets/kubelet-${build.version}` },
  };
}

interface Builds {
  list: Build[];
  byName: Record<'v1' | 'v2' | 'v3-broken', { version: string; sha256: string; size: number }>;
}

function readBuilds(share: string): Builds {
  const byName = {} as Builds['byName'];
  for (const v of ['v1', 'v2', 'v3-broken'] as const) {
    const data = readFileSync(path.join(share, 'kubelets', `kubelet-${v}`));
    byName[v] = { version: v, sha256: sha256(data), size: data.length };
  }
  const list = Object.values(byName).map((b) => ({ version: b.version, sha256: b.sha256, broken: b.version.endsWith('broken'), preinstalled: b.version === 'v1' }));
  return { list, byName };
}

/** Save the worker's managed files and state dir as scenario NAME's start (the agent stopped meanwhile). */
const captureScript = (name: string) => `set -e
systemctl stop ${AGENT_UNIT}
B=/root/r1-base/${name}; rm -rf "$B"; mkdir -p "$B/state" "$B/ceph" "$B/unit" "$B/bin"
cp -a /var/lib/nodewright/. "$B/state/"; rm -f "$B/state/agent.lock"
cp -a /etc/ceph/. "$B/ceph/"
cp -a ${UNIT} "$B/unit/"; [ ! -d ${UNIT}.d ] || cp -a ${UNIT}.d "$B/unit/"
cp -a ${KUBELET} ${KUBELET}.* "$B/bin/" 2>/dev/null || cp -a ${KUBELET} "$B/bin/"
systemctl start ${AGENT_UNIT}`;

/** Put the worker back to scenario NAME's start; the kubelet is restarted on the saved build; the agent is left stopped. */
const resetScript = (name: string) => `set -e
B=/root/r1-base/${name}
systemctl stop ${AGENT_UNIT}; systemctl reset-failed ${AGENT_UNIT} 2>/dev/null || true
find /var/lib/nodewright -mindepth 1 -delete; cp -a "$B/state/." /var/lib/nodewright/
find /etc/ceph -mindepth 1 -delete; cp -a "$B/ceph/." /etc/ceph/
rm -rf ${UNIT}.d; cp -a "$B/unit/." /etc/systemd/system/
rm -f ${KUBELET} ${KUBELET}.*; find /usr/local/bin -maxdepth 1 -name '.*' -type f -delete; cp -a "$B/bin/." /usr/local/bin/
systemctl daemon-reload
systemctl restart kubelet.service`;

/** One worker container and its scenarios (the unit file carries the worker's own kubelet port). */
class R1Worker {
  scenarios = {} as Record<ScenarioName, Scenario>;
  bundles = {} as Record<ScenarioName, { body: string; generation: number }>;
  durations = {} as Record<ScenarioName, number>;
  constructor(
    readonly lab: WorkerLab,
    readonly builds: Builds,
    readonly dir: string,
  ) {}

  /** Reset to a scenario's start and start the agent armed with `hooks`; resolves once it idles. */
  async reset(sc: ScenarioName, hooks: Record<string, number>): Promise<{ reconciles: number }> {
    await this.lab.shOk(resetScript(sc));
    // Started (in the swap start it is unhealthy: the stand-in wants the keyring the agent brings).
    if (!(await poll(() => this.lab.kubelet(), 30_000))) throw new Error(`worker ${this.lab.name}: the kubelet does not answer after the reset to ${sc}`);
    if (sc === 'rollback' && !(await poll(() => this.lab.kubeletHealthy(), 30_000))) throw new Error(`worker ${this.lab.name}: kubelet v2 is not healthy after the reset to ${sc}`);
    this.lab.writeHooks(hooks);
    await this.lab.shOk(`systemctl start ${AGENT_UNIT}`);
    const st = await poll(async () => {
      const s = await this.lab.status();
      return s && s.recovery && s.inflight === null && (sc === 'swap' || (s.lastReconcile && s.converged)) && s;
    }, 60_000);
    if (!st) throw new Error(`worker ${this.lab.name}: the agent did not settle after the reset to ${sc}`);
    // A reconcile started by the agent's start (periodic/drift) must not overlap the trial's.
    await sleep(200);
    return { reconciles: (await this.lab.status())?.reconciles ?? st.reconciles };
  }

  snapshot() {
    return snapshotRoot(this.lab.root, watch);
  }

  /** Boot-time worker → both scenarios' starts saved, one unkilled reference run of each. */
  async prepare(): Promise<void> {
    const ok = await poll(async () => (await this.lab.status())?.recovery, 60_000);
    if (!ok) throw new Error(`worker ${this.lab.name}: the agent never answered /v1/status`);
    const key = loadPrivateKey(readFileSync(path.join(this.lab.share, 'controller.key'), 'utf8'));
    const bundle = (g: number, v: 'v2' | 'v3-broken') => ({ body: JSON.stringify(signBundle(desiredOf(g, this.builds.byName[v]), key)), generation: g });
    this.bundles = { swap: bundle(1, 'v2'), rollback: bundle(2, 'v3-broken') };
    await this.lab.shOk(captureScript('swap'));
    const swap = await this.reference('swap', 'v2');
    await this.lab.shOk(captureScript('rollback'));
    const rollback = await this.reference('rollback', 'v3-broken');
    this.scenarios = { swap, rollback };
  }

  private async reference(sc: ScenarioName, v: 'v2' | 'v3-broken'): Promise<Scenario> {
    await this.reset(sc, {});
    const before = this.snapshot().files;
    const t0 = performance.now();
    const r = await this.lab.api('POST', '/v1/desired?wait=1', this.bundles[sc].body);
    this.durations[sc] = performance.now() - t0;
    const s = r.json?.status;
    const wantConverged = sc === 'swap';
    if (r.status !== 200 || !s || s.converged !== wantConverged) {
      throw new Error(`R1 worker reference run of ${sc} is not what the campaign assumes (HTTP ${r.status}, converged ${s?.converged}, want ${wantConverged}): ${r.text.slice(0, 1500)}`);
    }
    const after = this.snapshot().files;
    const allowed: Record<string, Digest[]> = {};
    for (const p of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const vs: Digest[] = [before[p] ?? null, after[p] ?? null];
      if (p === KUBELET) vs.push(this.builds.byName[v].sha256);
      allowed[p] = [...new Set(vs)];
    }
    return {
      name: sc,
      allowed,
      converged: after,
      builds: this.builds.list,
      expectKubelet: this.builds.byName.v2.sha256,
      desiredKubelet: this.builds.byName[v].sha256,
      kubeletPath: KUBELET,
      keyringPaths: [KEYRING, CEPH_CONF],
      unitPaths: Object.keys(after).filter((p) => p === UNIT || p.startsWith(`${UNIT}.d/`)),
      rktMustContain: `--volume ceph-keyring,kind=host,source=${KEYRING}`,
    };
  }

  /** The unit's effective environment by the project's parser of the files in the worker. */
  private async modelEnv(): Promise<Record<string, string> | null> {
    // A private copy of the unit files: the agent's rooted fs resolves a root like /proc/<pid>/root to /.
    const root = path.join(this.dir, `unit-${this.lab.name}`);
    try {
      rmSync(root, { recursive: true, force: true });
      cpSync(path.join(this.lab.root, UNIT), path.join(root, UNIT));
      if (existsSync(path.join(this.lab.root, `${UNIT}.d`))) cpSync(path.join(this.lab.root, `${UNIT}.d`), path.join(root, `${UNIT}.d`), { recursive: true });
      const src = await loadUnitSources(createHost({ root }).fs, UNIT);
      return Object.fromEntries(Object.entries(effectiveEnvironment(src).vars).map(([k, v]) => [k, v.value]));
    } catch {
      return null;
    }
  }

  /** Wait for the agent systemd restarted after a kill of `oldNsPid`: its main process. */
  private async restarted(oldNsPid: number) {
    return poll(async () => {
      const m = await this.lab.agentMain();
      return m && m.nsPid !== oldNsPid && m.state === 'active/running' && m;
    }, 30_000, 50);
  }

  async trial(p: Point, tally: WorkerPart): Promise<void> {
    const sc = this.scenarios[p.scenario];
    const { body, generation } = this.bundles[p.scenario];
    const hooks = p.anchor === 'start' ? {} : { [p.anchor]: PAUSE_MS };
    const since = new Date(Date.now() - 1000).toISOString().replace('T', ' ').slice(0, 19);
    const { reconciles } = await this.reset(p.scenario, hooks);
    const main = await this.lab.agentMain();
    if (!main) throw new Error(`worker ${this.lab.name}: no agent main process after the reset`);
    const where = `worker ${p.scenario} ${p.anchor}+${Math.round(p.offsetMs)} ms${p.chainMs !== undefined ? `, recovery+${Math.round(p.chainMs)} ms` : ''}`;
    const problems: string[] = [];
    const progress: string[] = [];
    const post = await this.lab.api('POST', '/v1/desired', body);
    if (post.status !== 202) throw new Error(`worker ${this.lab.name}: POST /v1/desired answered ${post.status}: ${post.text.slice(0, 500)}`);
    if (p.anchor !== 'start') {
      const phase = HOOK_PHASE[p.anchor];
      const at = await poll(async () => (await this.lab.status())?.inflight?.phase === phase, 30_000, 30);
      if (!at) problems.push(`the change never reached ${p.anchor}`);
      // The restarted agent reads the hooks at its start: disarm them before the kill.
      this.lab.writeHooks({});
    }
    await sleep(p.offsetMs);
    process.kill(main.hostPid, 'SIGKILL');
    let s = this.snapshot();
    if (s.reconciles !== null && s.reconciles > reconciles && !s.inflight) {
      tally.missed++; // the apply had ended before the kill: not a point of the apply
      return;
    }
    tally.kills++;
    const note = (k: number) => {
      const w = `worker ${p.scenario} kill ${k}: ${progressOf(sc, s, s.inflight)}`;
      progress.push(w);
      tally.progress[w] = (tally.progress[w] ?? 0) + 1;
      problems.push(...fileProblems(sc, s).map((x) => `after kill ${k}: ${x}`));
    };
    note(1);
    let last = main.nsPid;
    if (p.chainMs !== undefined) {
      const m = await this.restarted(last);
      if (m) {
        await sleep(p.chainMs);
        process.kill(m.hostPid, 'SIGKILL');
        tally.kills++;
        s = this.snapshot();
        note(2);
        last = m.nsPid;
      } else problems.push('systemd did not restart the agent after kill 1');
    }
    const m = await this.restarted(last);
    if (!m) problems.push('systemd did not restart the agent after the last kill');
    const st = await poll(async () => {
      const x = await this.lab.status();
      return x && x.agent.pid === m?.nsPid && x.lastReconcile && Date.parse(x.lastReconcile.at) >= Date.parse(x.agent.startedAt) && x.inflight === null && x;
    }, 90_000, 200);
    if (!st) problems.push('the restarted agent did not finish its recovery pass and a reconcile within 90 s');
    // The kubelet the reconcile (re)started must have come up (or stayed down) before it is judged.
    await poll(async () => (await this.lab.kubelet()) !== null, 10_000);
    const after = await this.judge(sc, generation, st);
    problems.push(...after.map((x) => `after the restart: ${x}`));
    if (p.scenario === 'swap' && st && !st.converged) tally.notConverged++;
    if (problems.length) {
      tally.inconsistent++;
      const f: WorkerFailure = { where, progress: progress.join(' → '), problems };
      if (tally.failures.length < 10) {
        const file = path.join(this.dir, `failure-${tally.failures.length + 1}.txt`);
        writeFileSync(file, `${where}\n${problems.join('\n')}\n\nstatus: ${JSON.stringify(st, null, 1)}\n\n${await this.lab.agentJournal(since)}`);
        f.journal = file;
      }
      tally.failures.push(f);
    }
  }

  private async judge(sc: Scenario, generation: number, status: any): Promise<string[]> {
    const s = this.snapshot();
    const show = await this.lab.sh(`systemctl show kubelet.service -p Environment -p NeedDaemonReload -p MainPID`);
    const nr = /^NeedDaemonReload=(yes|no)$/m.exec(show.stdout)?.[1];
    let shownEnv: Record<string, string> | null = null;
    try {
      shownEnv = parseShowEnvironment(show.stdout);
    } catch {}
    const rec = await this.lab.kubelet();
    const a: AfterRestart = {
      ...s,
      needDaemonReload: nr === undefined ? null : nr === 'yes',
      rktRunArgs: shownEnv?.RKT_RUN_ARGS ?? null,
      running: rec ? versionLine(rec) : null,
      exitCode: status ? (status.converged ? 0 : 1) : null,
      status,
      state: s.stateError ? null : { inflight: s.inflight },
    };
    return [
      ...restartProblems(sc, a),
      ...workerProblems(sc, a, {
        generation,
        status,
        kubelet: rec,
        kubeletMainPid: Number(/^MainPID=(\d+)$/m.exec(show.stdout)?.[1] ?? 0) || null,
        modelEnv: await this.modelEnv(),
        shownEnv,
      }),
    ];
  }
}

/**
 * The points: per scenario, in proportion to its apply's duration, offsets spread evenly from the
 * 202; a third of the trials anchored at a phase hook, offsets across the pause and past it; every
 * other trial also kills the restarted agent during its recovery pass (offsets over 0..2.5 s).
 */
export function planPoints(kills: number, durations: Record<ScenarioName, number>): Point[] {
  const trials = Math.ceil(kills / 1.5);
  const hooked: [ScenarioName, Exclude<Anchor, 'start'>][] = [
    ['swap', 'unit:written'],
    ['swap', 'artifact:staged'],
    ['swap', 'artifact:swapped'],
    ['rollback', 'artifact:staged'],
    ['rollback', 'artifact:swapped'],
  ];
  const nHooked = Math.max(hooked.length, Math.round(trials / 3));
  const timed = trials - nHooked;
  const total = durations.swap + durations.rollback;
  const nSwap = Math.max(1, Math.round((timed * durations.swap) / total));
  const points: Point[] = [];
  const spread = (n: number, i: number, span: number) => ((i + 0.5) * span) / n;
  for (let i = 0; i < nSwap; i++) points.push({ scenario: 'swap', anchor: 'start', offsetMs: spread(nSwap, i, durations.swap) });
  for (let i = 0; i < timed - nSwap; i++) points.push({ scenario: 'rollback', anchor: 'start', offsetMs: spread(timed - nSwap, i, durations.rollback) });
  for (let i = 0; i < nHooked; i++) {
    const [scenario, anchor] = hooked[i % hooked.length];
    const per = Math.ceil(nHooked / hooked.length);
    points.push({ scenario, anchor, offsetMs: spread(per, Math.floor(i / hooked.length), PAUSE_MS + 1500) });
  }
  // Interleave scenarios, anchors and offsets (a budget stop still leaves a spread), then chain every other trial.
  const order = points.map((p, i) => ({ p, k: (i * 7919) % 1009 })).sort((a, b) => a.k - b.k);
  order.forEach(({ p }, i) => {
    if (i % 2 === 1) p.chainMs = ((i * 0.618034) % 1) * 2500;
  });
  points.splice(0, points.length, ...order.map((x) => x.p));
  return points;
}

export async function runWorkerPart(o: { kills: number; workers: number; dir: string; stopAt: number; log: (s: string) => void }): Promise<WorkerPart> {
  const t0 = Date.now();
  const missing = labMissing();
  if (missing) throw new Error(`R1 worker part: ${missing}`);
  const share = path.join(o.dir, 'share');
  mkdirSync(o.dir, { recursive: true });
  await makeShare(share);
  const builds = readBuilds(share);
  const labs: WorkerLab[] = [];
  const tally: WorkerPart = { workers: o.workers, trials: 0, kills: 0, missed: 0, inconsistent: 0, errors: [], notConverged: 0, progress: {}, failures: [], durationsMs: {}, seconds: 0 };
  try {
    const env = { HEALTH_TIMEOUT_SEC: String(HEALTH_TIMEOUT_SEC), MIN_HEALTHY_SEC: '1', NODE_GROUP };
    for (let i = 0; i < o.workers; i++) labs.push(await WorkerLab.boot(`nwr1w${process.pid}x${i + 1}`, share, env));
    const workers = labs.map((l) => new R1Worker(l, builds, o.dir));
    await Promise.all(workers.map((w) => w.prepare()));
    for (const n of ['swap', 'rollback'] as const) tally.durationsMs[n] = Math.round(Math.max(...workers.map((w) => w.durations[n])));
    o.log(`R1 worker: ${o.workers} container(s) booted and prepared in ${Math.round((Date.now() - t0) / 1000)} s; swap apply ${tally.durationsMs.swap} ms, rollback ${tally.durationsMs.rollback} ms unkilled`);
    const points = planPoints(o.kills, tally.durationsMs as Record<ScenarioName, number>);
    let next = 0;
    await Promise.all(
      workers.map(async (w) => {
        while (next < points.length && Date.now() < o.stopAt) {
          const p = points[next++];
          try {
            await w.trial(p, tally);
          } catch (e) {
            tally.errors.push(`${w.lab.name} ${p.scenario} ${p.anchor}+${Math.round(p.offsetMs)} ms: ${(e as Error).message}`);
            o.log(`R1 worker: a trial could not be carried out: ${tally.errors[tally.errors.length - 1]}`);
            if (tally.errors.length >= 3) throw new Error(`R1 worker part: 3 trials could not be carried out; last: ${(e as Error).message}`);
          }
          tally.trials++;
          if (tally.trials % 10 === 0) o.log(`R1 worker: ${tally.trials}/${points.length} trials, ${tally.kills} kills`);
        }
      }),
    );
  } finally {
    await Promise.all(labs.map((l) => l.stop()));
  }
  tally.seconds = Math.round((Date.now() - t0) / 1000);
  return tally;
}
