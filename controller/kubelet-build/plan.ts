// `nodewright kubelet build`, planned: every command the build will run (git worktree, git
// apply, make) with its cwd, environment and timeout, as plain data. build.ts runs it.
import path from 'node:path';
import { NwError } from '../../host/errors.js';
import { BASE_ENV } from '../../host/exec.js';
import type { ArtifactRecord } from '../store/store.js';

export interface GoToolchain {
  /** The go binary (symlinks resolved). */
  bin: string;
  /** The directory put first on PATH. */
  binDir: string;
  /** Set when binDir's parent is a Go root (a tarball or distro install); else go finds its own. */
  goroot?: string;
  /** `go version`'s answer, for the progress line. */
  version: string;
}

export interface BuildRequest {
  src: string;
  ref: string;
  /** The artifact version this build becomes (`<ref>-nw.<n>`); also what `kubelet --version` says. */
  version: string;
  patchFile: string;
  go: GoToolchain;
  /** A fresh scratch directory; the worktree is made inside it. */
  workDir: string;
  logFile: string;
  makeTimeoutMs: number;
  /** The operator's HOME and Go settings, passed through to git and make. */
  env: Record<string, string | undefined>;
}

export interface PlannedCommand {
  file: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

export interface KubeletBuildPlan {
  src: string;
  ref: string;
  version: string;
  patchFile: string;
  worktree: string;
  /** Where `make WHAT=cmd/kubelet` leaves the binary. */
  output: string;
  logFile: string;
  go: GoToolchain;
  isRepo: PlannedCommand;
  resolveRef: PlannedCommand;
  /** Takes the commit id resolveRef printed. */
  addWorktree: (commit: string) => PlannedCommand;
  checkPatch: PlannedCommand;
  applyPatch: PlannedCommand;
  make: PlannedCommand;
  removeWorktree: PlannedCommand;
  prune: PlannedCommand;
}

/** The artifact store's version syntax (controller/artifacts/store.ts) leaves this much for the ref. */
const REF = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,110}$/;
const PASS_THROUGH = ['HOME', 'GOPATH', 'GOCACHE', 'GOFLAGS', 'GOPROXY', 'GO111MODULE', 'KUBE_BUILD_PLATFORMS'];
const GIT_TIMEOUT_MS = 30_000;
const CHECKOUT_TIMEOUT_MS = 600_000; // a Kubernetes checkout is ~20k files

export function checkRef(ref: string): void {
  if (!REF.test(ref)) {
    throw new NwError('NW_USAGE', `--ref "${ref}" cannot name an artifact version (letters, digits and . _ + -, at most 111): give the tag, e.g. v1.10.4`);
  }
}

/** The version a build of `ref` is registered under: `<ref>-nw.<n>`. */
export const buildVersion = (ref: string, n: number): string => `${ref}-nw.${n}`;

/** The next free build number for `ref` among the stored kubelet artifacts (1 for the first). */
export function nextBuildNumber(artifacts: readonly Pick<ArtifactRecord, 'kind' | 'version'>[], ref: string): number {
  const prefix = buildVersion(ref, 0).slice(0, -1);
  let max = 0;
  for (const a of artifacts) {
    if (a.kind !== 'kubelet-binary' || !a.version.startsWith(prefix)) continue;
    const n = a.version.slice(prefix.length);
    if (/^[1-9][0-9]*$/.test(n)) max = Math.max(max, Number(n));
  }
  return max + 1;
}

export function planKubeletBuild(r: BuildRequest): KubeletBuildPlan {
  checkRef(r.ref);
  const worktree = path.join(r.workDir, `kubernetes-${r.ref}`);
  const passed = Object.fromEntries(PASS_THROUGH.flatMap((k) => (r.env[k] ? [[k, r.env[k] as string]] : [])));
  const gitEnv = r.env.HOME ? { HOME: r.env.HOME } : undefined;
  const git = (args: string[], timeoutMs = GIT_TIMEOUT_MS, cwd?: string): PlannedCommand => ({ file: 'git', args, cwd, env: gitEnv, timeoutMs });
  const makeEnv: Record<string, string> = {
    // Kubernetes 1.10 predates modules; later trees set GO111MODULE themselves (hack/lib/golang.sh)
    GO111MODULE: 'off',
    ...passed,
    // hack/lib/version.sh: the binary reports the artifact's version, not `git describe`'s
    // "v1.10.4-dirty" of a patched tree (the version itself says it is patched)
    KUBE_GIT_VERSION: r.version,
    KUBE_GIT_TREE_STATE: 'clean',
    PATH: `${r.go.binDir}:${BASE_ENV.PATH}`,
    ...(r.go.goroot ? { GOROOT: r.go.goroot } : {}),
  };
  return {
    src: r.src,
    ref: r.ref,
    version: r.version,
    patchFile: r.patchFile,
    worktree,
    output: path.join(worktree, '_output', 'bin', 'kubelet'),
    logFile: r.logFile,
    go: r.go,
    isRepo: git(['-C', r.src, 'rev-parse', '--git-dir']),
    resolveRef: git(['-C', r.src, 'rev-parse', '--verify', '--quiet', `${r.ref}^{commit}`]),
    addWorktree: (commit) => git(['-C', r.src, 'worktree', 'add', '--detach', worktree, commit], CHECKOUT_TIMEOUT_MS),
    checkPatch: git(['apply', '--check', r.patchFile], GIT_TIMEOUT_MS, worktree),
    applyPatch: git(['apply', r.patchFile], GIT_TIMEOUT_MS, worktree),
    // one log with stdout and stderr interleaved, as the operator would see them on a terminal
    make: { file: 'sh', args: ['-c', 'exec make WHAT=cmd/kubelet >"$1" 2>&1', 'sh', r.logFile], cwd: worktree, env: makeEnv, timeoutMs: r.makeTimeoutMs },
    removeWorktree: git(['-C', r.src, 'worktree', 'remove', '--force', worktree], CHECKOUT_TIMEOUT_MS),
    prune: git(['-C', r.src, 'worktree', 'prune']),
  };
}

/** The last `n` lines of a build log. */
export function logTail(log: string, n = 20): string[] {
  const lines = log.replace(/\n+$/, '').split('\n');
  return lines.slice(-n);
}
