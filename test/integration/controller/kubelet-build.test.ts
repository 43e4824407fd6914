// `nodewright kubelet build` end to end on a small Kubernetes-shaped git repository (real git,
// real make, the real controller and its store): test/fixtures/kubelet-build/tree has the
// tree's build entry (`make WHAT=cmd/kubelet` → _output/bin/kubelet) and a
// pkg/volume/cephfs/cephfs.go with the v1.10.4 context lines, so the real
// patches/kubelet-1.10-cephfs-fuse-id.patch applies to it. Go is not installed here: the fixture's
// go is a STAND-IN (test/fixtures/kubelet-build/go-standin/bin/go) that "builds" the lab's
// kubelet stand-in. The real Kubernetes tree is not built in CI.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { loadPublicKey, verifyArtifactSignature } from '../../../protocol/bundle.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

const PATCH = path.resolve('patches/kubelet-1.10-cephfs-fuse-id.patch');
const FIXTURE = path.resolve('test/fixtures/kubelet-build/tree');
const GO_STANDIN = path.resolve('test/fixtures/kubelet-build/go-standin/bin');
const PATH = process.env.PATH ?? '/usr/bin:/bin';

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.name=nodewright test', '-c', 'user.email=test@nodewright.invalid', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

describe('kubelet build: the patched kubelet from a fixture Kubernetes tree into the artifact store', () => {
  let dir: string;
  let src: string;
  let tmp: string;
  let port: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  let headBefore: string;
  let statusBefore: string;
  const env = (extra: Record<string, string> = {}) => ({ PATH, TMPDIR: tmp, NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml'), ...extra });
  const cli = (args: string[], e = env()) => {
    const r = spawnSync(process.execPath, [CONTROLLER_CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: e });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const build = (args: string[], e = env()) => cli(['kubelet', 'build', '--src', src, '--json', ...args], e);
  const artifacts = () => JSON.parse(cli(['artifact', 'ls', '--json']).stdout) as { version: string; sha256: string }[];
  /** No scratch directory and no worktree left behind; the source checkout as it was. */
  const expectCleanAfter = () => {
    expect(readdirSync(tmp).filter((f) => !f.endsWith('.log'))).toEqual([]);
    expect(git(src, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '))).toEqual([`worktree ${src}`]);
    expect(existsSync(path.join(src, '.git', 'worktrees')) ? readdirSync(path.join(src, '.git', 'worktrees')) : []).toEqual([]);
    expect(git(src, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(git(src, 'status', '--porcelain', '--ignored')).toBe(statusBefore);
  };

  beforeAll(async () => {
    requireBuild();
    for (const tool of ['git', 'make']) {
      if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error(`${tool} is not installed: apt-get install git make (the kubelet build test runs both for real)`);
    }
    dir = tempDir('nw-kubelet-build-it-');
    tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    port = await freePort();
    expect(cli(['init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`]).code).toBe(0);
    controller = spawn(process.execPath, [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(dir, 'ctl', 'controller.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH } });
    controller.stderr!.on('data', (c) => (logs += c));
    const ca = readFileSync(path.join(dir, 'ctl', 'ca.crt'));
    await waitUntil('controller ready', () => new Promise((r) => https.get(`https://127.0.0.1:${port}/readyz`, { ca, agent: false }, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false))), 20_000, () => logs);

    // the source clone: v1.10.4, then a commit that loses cmd/kubelet (tag v1.10.4-nobuild), then an
    // operator's local untracked file; the build must leave all of it as it is
    src = path.join(dir, 'kubernetes');
    cpSync(FIXTURE, src, { recursive: true });
    git(src, 'init', '-q');
    git(src, 'add', '-A');
    git(src, 'commit', '-qm', 'fixture v1.10.4');
    git(src, 'tag', 'v1.10.4');
    git(src, 'rm', '-q', 'cmd/kubelet/kubelet.go');
    git(src, 'commit', '-qm', 'lose cmd/kubelet');
    git(src, 'tag', 'v1.10.4-nobuild');
    git(src, 'checkout', '-q', '-b', 'slow', 'v1.10.4');
    writeFileSync(path.join(src, 'Makefile'), 'all:\n\t@echo "+++ Building go targets for linux/amd64:"\n\tsleep 120\n');
    git(src, 'commit', '-qam', 'a build that takes its time');
    git(src, 'tag', 'v1.10.4-slow');
    git(src, 'checkout', '-q', 'main');
    writeFileSync(path.join(src, 'NOTES.local'), 'the operator was here\n');
    headBefore = git(src, 'rev-parse', 'HEAD');
    statusBefore = git(src, 'status', '--porcelain', '--ignored');
  }, 90_000);

  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null) {
      process.kill(controller.pid, 'SIGTERM');
      await new Promise((r) => controller!.once('exit', r));
    }
  });

  it('builds v1.10.4 with the real patch, registers v1.10.4-nw.1 (sha256, size, signature), lists it, removes the worktree', async () => {
    const r = build(['--ref', 'v1.10.4', '--patch', PATCH, '--go', GO_STANDIN]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const a = out.artifact;
    expect(a).toMatchObject({ kind: 'kubelet-binary', version: 'v1.10.4-nw.1' });
    expect(out).toMatchObject({ ref: 'v1.10.4', commit: git(src, 'rev-parse', 'v1.10.4^{commit}') });
    // the progress, in order
    expect(r.stderr).toMatch(/kubelet build: worktree: v1\.10\.4 \([0-9a-f]{12}\) at .*\n/);
    expect(r.stderr).toContain(`kubelet build: patch: ${PATCH} applied (3 files, 4 hunks)`);
    expect(r.stderr).toMatch(/kubelet build: make WHAT=cmd\/kubelet as v1\.10\.4-nw\.1 with go version go1\.10\.3-nodewright-standin linux\/amd64 \(.*go-standin\/bin\); log: /);
    expect(r.stderr).toMatch(/kubelet build: built: _output\/bin\/kubelet \(\d+ bytes\)/);
    expect(r.stderr).toContain(`kubelet build: registered: kubelet-binary v1.10.4-nw.1 sha256=${a.sha256} size=${a.size}`);
    expect(r.stderr).toMatch(/kubelet build: worktree removed: /);

    // the stored blob is what make built from the patched tree: its bytes hash to the record
    const blob = readFileSync(path.join(dir, 'ctl', 'state', 'artifacts', 'sha256', a.sha256));
    expect(createHash('sha256').update(blob).digest('hex')).toBe(a.sha256);
    expect(blob.length).toBe(a.size);
    expect(blob.toString()).toMatch(/kubelet STAND-IN built by the fixture's go stand-in/);
    expect(blob.toString()).toContain('ceph-fuse --id: yes');
    expect(verifyArtifactSignature({ sha256: a.sha256, size: a.size }, a.signature, loadPublicKey(readFileSync(path.join(dir, 'ctl', 'signing.pub'), 'utf8')))).toBe(true);
    // the same signature `artifact sign` makes with the fleet key (ed25519 is deterministic)
    writeFileSync(path.join(dir, 'kubelet-built'), blob);
    expect(cli(['artifact', 'sign', '--key', path.join(dir, 'ctl', 'signing.key'), path.join(dir, 'kubelet-built')]).stdout.trim()).toBe(a.signature);
    expect(artifacts().map((x) => x.version)).toEqual(['v1.10.4-nw.1']);
    expect(readFileSync(out.log, 'utf8')).toContain('go build -o _output/bin/kubelet ./cmd/kubelet');
    expectCleanAfter();

    // the build is a working kubelet stand-in: it serves /healthz
    const healthz = await freePort();
    writeFileSync(path.join(dir, 'kubelet'), blob, { mode: 0o755 });
    const k = spawn(path.join(dir, 'kubelet'), [`--healthz-port=${healthz}`], { stdio: 'ignore', env: { PATH, KUBELET_STANDIN_RECORD: path.join(dir, 'record.json') } });
    try {
      await waitUntil('the built kubelet stand-in healthy', () => new Promise((res) => http.get(`http://127.0.0.1:${healthz}/healthz`, (h) => { h.resume(); res(h.statusCode === 200); }).on('error', () => res(false))), 15_000);
      expect(JSON.parse(readFileSync(path.join(dir, 'record.json'), 'utf8')).version).toBe('v1.10.4-nw.1');
    } finally {
      k.kill('SIGTERM');
      await new Promise((res) => (k.exitCode !== null ? res(null) : k.once('exit', res)));
    }
  });

  it('a second build of the same ref is v1.10.4-nw.2', () => {
    const r = build(['--ref', 'v1.10.4', '--patch', PATCH, '--go', path.join(GO_STANDIN, 'go')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).artifact.version).toBe('v1.10.4-nw.2');
    expect(artifacts().map((x) => x.version).sort()).toEqual(['v1.10.4-nw.1', 'v1.10.4-nw.2']);
    expectCleanAfter();
  });

  it('a patch that does not apply: NW_PATCH naming the rejected hunk, nothing registered, no worktree left', () => {
    // the same fix written against a later tree (keyring_file renamed keyringFile)
    const later = path.join(dir, 'later.patch');
    writeFileSync(later, readFileSync(PATCH, 'utf8').replace(/^ \tkeyring_file := ""$/m, ' \tkeyringFile := ""'));
    const r = build(['--ref', 'v1.10.4', '--patch', later, '--go', GO_STANDIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_PATCH: .*later\.patch: hunk #1 of pkg\/volume\/cephfs\/cephfs\.go \(@@ -342,8 \+342,46 @@ func \(cephfsMounter \*cephfsMounter\) checkFuseMount\(\) bool \{\) does not apply to v1\.10\.4/m);
    expect(r.stderr).toMatch(/kubelet build: worktree removed: /);
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });

  it('a make failure: the log tail on stderr, the full log path, nothing registered, no worktree left', () => {
    const log = path.join(dir, 'nobuild.log');
    const r = build(['--ref', 'v1.10.4-nobuild', '--patch', PATCH, '--go', GO_STANDIN, '--log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`kubelet build: make failed (exit 2); the last lines of ${log}:`);
    expect(r.stderr).toContain(`kubelet build:   | can't load package: package k8s.io/kubernetes/cmd/kubelet`);
    expect(r.stderr).toMatch(new RegExp(`^NW_BUILD: make WHAT=cmd/kubelet exited 2 after [0-9.]+ s; full log: ${log.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(readFileSync(log, 'utf8')).toContain("can't load package");
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });

  it('interrupted (Ctrl-C signals the whole process group): the worktree is removed, nothing registered', async () => {
    // its own process group, as a terminal's foreground job: the signal reaches the CLI, make and sleep
    const child = spawn(process.execPath, [CONTROLLER_CLI, 'kubelet', 'build', '--src', src, '--ref', 'v1.10.4-slow', '--patch', PATCH, '--go', GO_STANDIN], { env: env(), detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitUntil('make running', () => stderr.includes('kubelet build: make WHAT=cmd/kubelet'), 30_000, () => stderr);
      await new Promise((r) => setTimeout(r, 300)); // make has started sleep
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(130);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    expect(stderr).toContain('kubelet build: interrupted by SIGINT; worktree removed, nothing registered');
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });

  it('a clone whose checkout fails: NW_GIT quotes git\'s error lines, not its "Preparing worktree" line', () => {
    // a copy of the clone that lost the blob of v1.10.4's Makefile: the ref resolves, its checkout fails
    const broken = path.join(dir, 'kubernetes-broken');
    cpSync(src, broken, { recursive: true });
    const blob = git(broken, 'rev-parse', 'v1.10.4:Makefile');
    rmSync(path.join(broken, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
    const r = cli(['kubelet', 'build', '--src', broken, '--ref', 'v1.10.4', '--patch', PATCH, '--go', GO_STANDIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^NW_GIT: git worktree add of v1\\.10\\.4 \\([0-9a-f]{12}\\) failed: error: unable to read sha1 file of Makefile \\(${blob}\\); fatal: Could not reset index file to revision 'HEAD'\\.; check the clone \\(git -C ${broken.replace(/[.]/g, '\\.')} fsck\\)`, 'm'));
    expect(r.stderr).not.toContain('Preparing worktree');
    expect(readdirSync(tmp).filter((f) => !f.endsWith('.log'))).toEqual([]);
    expect(git(broken, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '))).toEqual([`worktree ${broken}`]);
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });

  it('an unknown ref: NW_GIT saying how to fetch it, nothing made', () => {
    const r = build(['--ref', 'v9.9.9', '--patch', PATCH, '--go', GO_STANDIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_GIT: ref v9\.9\.9 is not in .*: fetch it \(git -C .* fetch --tags\)/m);
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });

  it('no Go: NW_GO_MISSING saying how to install one, before anything is made', () => {
    const noGo = path.join(dir, 'no-go-bin');
    mkdirSync(noGo, { recursive: true });
    const r = build(['--ref', 'v1.10.4', '--patch', PATCH], env({ PATH: noGo }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_GO_MISSING: no go on PATH and no --go given\. .*go\.dev\/dl\/.*--go \/usr\/local\/go\/bin/m);
    const r2 = build(['--ref', 'v1.10.4', '--patch', PATCH, '--go', path.join(dir, 'nowhere')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^NW_GO_MISSING: --go .*nowhere: no executable go there\./m);
    expect(artifacts()).toHaveLength(2);
    expectCleanAfter();
  });
});
