// Runs a planned kubelet build: a git worktree of the ref, the patch checked then applied,
// `make WHAT=cmd/kubelet`, the binary handed to `register`. The worktree is removed at the end,
// also when a step fails; the source checkout's own tree and HEAD are never touched.
import { execFileSync } from 'node:child_process';
import { promises as fsp, rmSync } from 'node:fs';
import { NwError, isNwError } from '../../host/errors.js';
import type { Exec, ExecResult } from '../../host/exec.js';
import type { ArtifactRecord } from '../store/store.js';
import { gitFailure } from './git-failure.js';
import { explainRejectedPatch, type PatchFile } from './patch.js';
import { logTail, type KubeletBuildPlan, type PlannedCommand } from './plan.js';

export interface BuildDeps {
  exec: Exec;
  progress: (line: string) => void;
  /** Registers the built binary under plan.version (the `artifact add` path) and returns its record. */
  register: (file: string, version: string) => Promise<ArtifactRecord>;
  now?: () => number;
}

export interface BuildResult {
  ref: string;
  commit: string;
  artifact: ArtifactRecord;
  log: string;
  buildMs: number;
}

const run = (exec: Exec, c: PlannedCommand, allowFailure = false): Promise<ExecResult> =>
  exec(c.file, c.args, { cwd: c.cwd, env: c.env, timeoutMs: c.timeoutMs, allowFailure });

const failure = (r: ExecResult) => gitFailure(r.stderr, r.stdout);

export async function runKubeletBuild(plan: KubeletBuildPlan, patch: PatchFile[], deps: BuildDeps): Promise<BuildResult> {
  const { exec, progress } = deps;
  const now = deps.now ?? (() => performance.now());
  const repo = await run(exec, plan.isRepo, true);
  if (repo.exitCode !== 0) throw new NwError('NW_GIT', `--src ${plan.src} is not a git checkout (${failure(repo)}): give the Kubernetes clone (git clone https://github.com/kubernetes/kubernetes)`);
  const resolved = await run(exec, plan.resolveRef, true);
  if (resolved.exitCode !== 0) {
    throw new NwError('NW_GIT', `ref ${plan.ref} is not in ${plan.src}: fetch it (git -C ${plan.src} fetch --tags) or name an existing tag with --ref`);
  }
  const commit = resolved.stdout.trim();
  progress(`worktree: ${plan.ref} (${commit.slice(0, 12)}) at ${plan.worktree}`);
  const added = await run(exec, plan.addWorktree(commit), true);
  if (added.exitCode !== 0) throw new NwError('NW_GIT', `git worktree add of ${plan.ref} (${commit.slice(0, 12)}) failed: ${failure(added)}; check the clone (git -C ${plan.src} fsck) and fetch or clone it again`);
  try {
    const check = await run(exec, plan.checkPatch, true);
    if (check.exitCode !== 0) throw new NwError('NW_PATCH', explainRejectedPatch(check.stderr, patch, plan.patchFile, plan.ref));
    await run(exec, plan.applyPatch);
    const hunks = patch.reduce((n, f) => n + f.hunks.length, 0);
    progress(`patch: ${plan.patchFile} applied (${patch.length} file${patch.length === 1 ? '' : 's'}, ${hunks} hunk${hunks === 1 ? '' : 's'})`);

    progress(`make WHAT=cmd/kubelet as ${plan.version} with ${plan.go.version} (${plan.go.binDir}${plan.go.goroot ? `, GOROOT ${plan.go.goroot}` : ''}); log: ${plan.logFile}`);
    const t0 = now();
    const made = await runMake(exec, plan);
    const buildMs = Math.round(now() - t0);
    if (made.exitCode !== 0) {
      const log = await fsp.readFile(plan.logFile, 'utf8').catch(() => '');
      progress(`make failed (exit ${made.exitCode}); the last lines of ${plan.logFile}:`);
      for (const line of logTail(log)) progress(`  | ${line}`);
      const hint = made.exitCode === 127 ? ': a tool it runs was not found (is make installed? apt-get install make)' : '';
      throw new NwError('NW_BUILD', `make WHAT=cmd/kubelet exited ${made.exitCode} after ${(buildMs / 1000).toFixed(1)} s${hint}; full log: ${plan.logFile}`);
    }
    const st = await fsp.stat(plan.output).catch(() => null);
    if (!st?.isFile() || st.size === 0) throw new NwError('NW_BUILD', `make WHAT=cmd/kubelet succeeded but left no ${plan.output}; full log: ${plan.logFile}`);
    progress(`built: _output/bin/kubelet (${st.size} bytes) in ${(buildMs / 1000).toFixed(1)} s`);

    const artifact = await deps.register(plan.output, plan.version);
    progress(`registered: ${artifact.kind} ${artifact.version} sha256=${artifact.sha256} size=${artifact.size}`);
    return { ref: plan.ref, commit, artifact, log: plan.logFile, buildMs };
  } finally {
    await removeWorktree(exec, plan, progress);
  }
}

async function runMake(exec: Exec, plan: KubeletBuildPlan): Promise<ExecResult> {
  try {
    return await run(exec, plan.make, true);
  } catch (e) {
    if (isNwError(e) && e.code === 'NW_EXEC_TIMEOUT') {
      throw new NwError('NW_EXEC_TIMEOUT', `make WHAT=cmd/kubelet did not finish within ${plan.make.timeoutMs / 1000} s and was killed (raise --timeout); full log: ${plan.logFile}`);
    }
    throw e;
  }
}

/** Best effort, and loud when it is not complete: the operator must not find a stray worktree. */
async function removeWorktree(exec: Exec, plan: KubeletBuildPlan, progress: (line: string) => void): Promise<void> {
  const removed = await run(exec, plan.removeWorktree, true).catch((e: unknown) => ({ exitCode: -1, stderr: String(e), stdout: '' }) as ExecResult);
  await fsp.rm(plan.worktree, { recursive: true, force: true });
  const pruned = await run(exec, plan.prune, true).catch(() => null);
  if (removed.exitCode === 0 || pruned?.exitCode === 0) progress(`worktree removed: ${plan.worktree}`);
  else progress(`could not remove the worktree ${plan.worktree} (${failure(removed)}): run git -C ${plan.src} worktree prune`);
}

/** For a signal handler (it cannot await): the same removal, synchronously, each command bounded. */
export function removeWorktreeSync(plan: KubeletBuildPlan): void {
  for (const c of [plan.removeWorktree, plan.prune]) {
    try {
      execFileSync(c.file, c.args, { stdio: 'ignore', timeout: 60_000, env: { ...process.env, ...c.env } });
    } catch {
      // the rm and the prune below still run
    }
    if (c === plan.removeWorktree) rmSync(plan.worktree, { recursive: true, force: true });
  }
}
