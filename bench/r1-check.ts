// R1's judgement, pure: given what was found on a worker after a kill -9 and after the agent's
// restart, list every way the worker is inconsistent. No I/O here (bench/R1.ts gathers the facts).
//   - every managed file is the old or the new content (or absent where it was absent), never a mix;
//   - the unit files parse, and after the restart systemd agrees (NeedDaemonReload=no) and no temp
//     or staging file is left;
//   - the running kubelet is a known-good build and is the installed binary;
//   - the status the agent printed is true of the worker (kubelet sha, step states, inflight, converged).

/** A managed worker file's content digest, or null when the file is absent. */
export type Digest = string | null;

export interface Build {
  version: string;
  sha256: string;
  broken: boolean;
  /** Installed before the agent came: it may only know it by sha256 (version "unknown"). */
  preinstalled?: boolean;
}

export interface Snapshot {
  /** Managed files (worker paths) → digest; temp and staging files are not in here. */
  files: Record<string, Digest>;
  /** Unit files that do not parse: path → error. */
  unitErrors: Record<string, string>;
  /** state.json parse error, if any (absent is fine before the first write). */
  stateError: string | null;
  /** Leftover temp/staging files next to managed files (judged after the restart, not right after a kill). */
  leftovers: string[];
}

export interface AfterRestart extends Snapshot {
  needDaemonReload: boolean | null;
  /** RKT_RUN_ARGS as systemd sees it after the restart (null: not set). */
  rktRunArgs: string | null;
  /** Version line of the kubelet build systemd last (re)started, null if unknown. */
  running: string | null;
  exitCode: number | null;
  status: StatusLike | null;
  /** The persisted state after the restart. */
  state: { inflight: unknown } | null;
}

/** The parts of GET /v1/status (= `apply --json`) that R1 holds true. */
export interface StatusLike {
  converged: boolean;
  steps: { name: string; state: string; message: string }[];
  kubelet: { version?: string; sha256?: string; lastGood?: { version: string; sha256: string } };
  inflight: unknown;
}

export interface Scenario {
  name: string;
  /** Managed path → digests it may have at any moment (before ∪ after). */
  allowed: Record<string, Digest[]>;
  /** Managed path → digest once the apply converged (from the reference run). */
  converged: Record<string, Digest>;
  builds: Build[];
  /** What the agent should end up running: the desired build, or the last good one after a rollback. */
  expectKubelet: string;
  /** The desired build (sha256). */
  desiredKubelet: string;
  kubeletPath: string;
  keyringPaths: string[];
  unitPaths: string[];
  /** Substring RKT_RUN_ARGS must contain once the unit step converged. */
  rktMustContain: string;
}

const OK_STATES = new Set(['converged', 'changed']);

/** Files after the kill (or after the restart): each managed file is an allowed version. */
export function fileProblems(sc: Scenario, s: Snapshot): string[] {
  const out: string[] = [];
  const paths = new Set([...Object.keys(sc.allowed), ...Object.keys(s.files)]);
  for (const p of paths) {
    const got = s.files[p] ?? null;
    const allowed = sc.allowed[p] ?? [null];
    if (!allowed.includes(got)) out.push(`${p} is neither the old nor the new content (${got ? got.slice(0, 12) : 'absent'})`);
  }
  for (const [p, e] of Object.entries(s.unitErrors)) out.push(`${p} does not parse: ${e}`);
  if (s.stateError) out.push(`state.json: ${s.stateError}`);
  return out;
}

const buildOf = (sc: Scenario, sha: Digest) => sc.builds.find((b) => b.sha256 === sha);
const buildByLine = (sc: Scenario, line: string | null) => (line === null ? undefined : sc.builds.find((b) => line === versionLine(b)));

/** The line the kubelet stand-in build carries (what the systemctl stand-in records at restart). */
export const versionLine = (b: Pick<Build, 'version' | 'broken'>) => `# kubelet stand-in ${b.version}${b.broken ? ' BROKEN' : ''}`;

/** After the agent was restarted and finished: the worker is consistent and the status is true. */
export function restartProblems(sc: Scenario, a: AfterRestart): string[] {
  const out = fileProblems(sc, a);
  // The recovery pass removes what a killed agent left (agent/leftovers.ts).
  if (a.leftovers.length) out.push(`temp/staging files left next to managed files: ${a.leftovers.join(', ')}`);
  if (a.needDaemonReload !== false) out.push(`NeedDaemonReload=${a.needDaemonReload === null ? 'unknown' : 'yes'} after the restart`);
  const installed = buildOf(sc, a.files[sc.kubeletPath] ?? null);
  const running = buildByLine(sc, a.running);
  if (!running) out.push(`the running kubelet is not a known build (${a.running ?? 'nothing started'})`);
  else if (running.broken) out.push(`the running kubelet is the broken build ${running.version}`);
  if (installed && running && installed.sha256 !== running.sha256) out.push(`installed kubelet ${installed.version} is not the running one (${running.version})`);
  if (installed?.broken) out.push(`the installed kubelet is the broken build ${installed.version}`);
  if (a.state && a.state.inflight) out.push('state.json still has a change in flight after the restart finished');
  const st = a.status;
  if (!st) {
    out.push(`the restarted agent printed no status (exit ${a.exitCode})`);
    return out;
  }
  if (st.inflight) out.push('status reports a change in flight after the restart finished');
  if (st.kubelet.sha256 && st.kubelet.sha256 !== installed?.sha256) {
    out.push(`status says kubelet ${st.kubelet.version} (${st.kubelet.sha256.slice(0, 12)}) but ${installed?.version ?? 'an unknown build'} is installed`);
  }
  if (installed && st.kubelet.version !== undefined && st.kubelet.version !== installed.version && !(installed.preinstalled && st.kubelet.version === 'unknown')) {
    out.push(`status names kubelet version "${st.kubelet.version}", the installed build is ${installed.version}`);
  }
  const lastGood = buildOf(sc, st.kubelet.lastGood?.sha256 ?? null);
  if (lastGood?.broken) out.push(`status names the broken build ${lastGood.version} as the last good kubelet`);
  if (st.converged !== (a.exitCode === 0)) out.push(`status converged=${st.converged} but apply exited ${a.exitCode}`);
  for (const step of st.steps) {
    const ok = OK_STATES.has(step.state);
    if (step.name === 'keyring' && ok) {
      for (const p of sc.keyringPaths) if (a.files[p] !== sc.converged[p]) out.push(`status says keyring ${step.state} but ${p} is not the desired content`);
    }
    if (step.name === 'unit' && ok) {
      for (const p of sc.unitPaths) if ((a.files[p] ?? null) !== (sc.converged[p] ?? null)) out.push(`status says unit ${step.state} but ${p} is not the desired content`);
      if (!a.rktRunArgs?.includes(sc.rktMustContain)) out.push(`status says unit ${step.state} but systemd's RKT_RUN_ARGS lacks ${sc.rktMustContain}`);
    }
    if (step.name === 'artifact') {
      if (ok && installed?.sha256 !== sc.desiredKubelet) out.push(`status says artifact ${step.state} but the desired kubelet is not installed (${installed?.version ?? 'unknown'})`);
      if (step.state === 'rolled_back' && installed?.sha256 === sc.desiredKubelet) out.push('status says artifact rolled_back but the desired kubelet is installed');
    }
  }
  if (st.converged) {
    const notOk = st.steps.filter((x) => !OK_STATES.has(x.state) && !['skipped', 'not-configured'].includes(x.state));
    if (notOk.length) out.push(`status converged=true with steps ${notOk.map((x) => `${x.name}=${x.state}`).join(', ')}`);
    if (installed?.sha256 !== sc.expectKubelet) out.push(`status converged=true but kubelet ${installed?.version ?? 'unknown'} is installed`);
  }
  return out;
}

/** Where on the apply's path a kill landed, read from the files it left (for the histogram). */
export function progressOf(sc: Scenario, s: Snapshot, inflight: { step?: string; kind?: string; phase?: string } | null): string {
  // state.json names an in-flight change by its kind (binary, image, unit); status by its step.
  const what = inflight?.step ?? inflight?.kind;
  if (what) return `inflight:${what}/${inflight?.phase}`;
  const done = Object.keys(sc.converged).filter((p) => s.files[p] === sc.converged[p] && sc.allowed[p].length > 1 && sc.allowed[p][0] !== sc.converged[p]);
  const changedPaths = Object.keys(sc.allowed).filter((p) => sc.allowed[p].some((d) => d !== sc.allowed[p][0]));
  if (!done.length) return 'nothing written';
  if (done.length === changedPaths.length) return 'all files written';
  const names = done.map((p) => (sc.keyringPaths.includes(p) ? 'keyring' : sc.unitPaths.includes(p) ? 'unit' : p === sc.kubeletPath ? 'kubelet' : 'other'));
  return `written: ${[...new Set(names)].sort().join('+')}`;
}

/** GET /v1/status of a daemon: what R1 holds true beyond `apply --json`'s fields. */
export interface DaemonStatusLike extends StatusLike {
  desired: { generation: number } | null;
  lastReconcile: { generation: number; ok: boolean } | null;
  kubelet: StatusLike['kubelet'] & { rejected?: { sha256: string }[] };
}

/** What a real systemd worker running the agent as a service tells, after the recovery pass and its reconcile. */
export interface WorkerFacts {
  /** Generation of the bundle the trial pushed (answered 202 before the kill: it must have stuck). */
  generation: number;
  status: DaemonStatusLike | null;
  /** The kubelet stand-in's own account (GET /record): the process that answers on the health port. */
  kubelet: { version: string; broken: boolean; pid: number } | null;
  /** MainPID of kubelet.service as systemd shows it. */
  kubeletMainPid: number | null;
  /** The unit's effective Environment= by the project's parser of the unit files on disk. */
  modelEnv: Record<string, string> | null;
  /** `systemctl show -p Environment` of the running manager, parsed. */
  shownEnv: Record<string, string> | null;
}

/** The judgement only a real worker allows: systemd's view equals the files, the kubelet is who status says. */
export function workerProblems(sc: Scenario, a: AfterRestart, f: WorkerFacts): string[] {
  const out: string[] = [];
  if (!f.modelEnv) out.push('the unit files give no effective environment (parser failed)');
  else if (!f.shownEnv) out.push('systemctl show -p Environment did not parse');
  else {
    for (const k of new Set([...Object.keys(f.modelEnv), ...Object.keys(f.shownEnv)])) {
      if (f.modelEnv[k] !== f.shownEnv[k]) out.push(`systemd's ${k}=${JSON.stringify(f.shownEnv[k] ?? null)} is not the unit files' ${JSON.stringify(f.modelEnv[k] ?? null)}`);
    }
  }
  if (!f.kubelet) out.push('no kubelet answers on its health port');
  else if (f.kubeletMainPid !== f.kubelet.pid) out.push(`the kubelet answering (pid ${f.kubelet.pid}) is not kubelet.service's main process (${f.kubeletMainPid ?? 'none'})`);
  const st = f.status;
  if (!st) return out;
  if (st.desired?.generation !== f.generation) out.push(`status holds generation ${st.desired?.generation ?? 'none'}, the accepted bundle was ${f.generation}`);
  if (st.lastReconcile?.generation !== f.generation) out.push(`the last reconcile ran generation ${st.lastReconcile?.generation ?? 'none'}, not ${f.generation}`);
  const installed = buildOf(sc, a.files[sc.kubeletPath] ?? null);
  if (f.kubelet && st.kubelet.version !== undefined && st.kubelet.version !== f.kubelet.version && !(installed?.preinstalled && st.kubelet.version === 'unknown')) {
    out.push(`status names kubelet "${st.kubelet.version}", the running kubelet says ${f.kubelet.version}`);
  }
  const art = st.steps.find((x) => x.name === 'artifact');
  if (art?.state === 'rolled_back' && !st.kubelet.rejected?.some((r) => r.sha256 === sc.desiredKubelet)) out.push('status says artifact rolled_back but does not hold the desired build as rejected');
  return out;
}
