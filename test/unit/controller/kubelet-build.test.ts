// The kubelet build's pure parts: the patch's hunks and the rejected-hunk message, the build
// number, and the planned commands (PATH, GOROOT, what reaches make's environment).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainRejectedPatch, parsePatch } from '../../../controller/kubelet-build/patch.js';
import { buildVersion, checkRef, logTail, nextBuildNumber, planKubeletBuild, type BuildRequest } from '../../../controller/kubelet-build/plan.js';
import { BASE_ENV } from '../../../host/exec.js';

const PATCH = readFileSync(new URL('../../../patches/kubelet-1.10-cephfs-fuse-id.patch', import.meta.url), 'utf8');

describe('the cephfs fuse patch', () => {
  it('changes execFuseMount in cephfs.go (--id always, --client-quota below Luminous) and adds a Go test', () => {
    const files = parsePatch(PATCH, 'p');
    expect(files.map((f) => [f.path, f.hunks.map((h) => h.oldStart)])).toEqual([
      ['pkg/volume/cephfs/cephfs.go', [342, 405]],
      ['pkg/volume/cephfs/cephfs_fuse_version_test.go', [0]],
    ]);
    const added = PATCH.split('\n').filter((l) => l.startsWith('+\t')).join('\n');
    expect(added).toContain('+\tmountArgs = append(mountArgs, "--id")\n+\tmountArgs = append(mountArgs, cephfsVolume.id)');
    expect(added).toContain('execute.Run("ceph-fuse", "--version")');
    expect(added).toContain('return major < 12');
    expect(added).toContain('mountArgs = append(mountArgs, "--client-quota")');
  });

  it('a text without hunks is refused', () => {
    expect(() => parsePatch('hello\n', 'x.patch')).toThrow(/NW_USAGE|not a unified patch/);
  });

  it('names the hunk git apply rejected, or the missing file', () => {
    const files = parsePatch(PATCH, 'p');
    const failed = 'error: patch failed: pkg/volume/cephfs/cephfs.go:405\nerror: pkg/volume/cephfs/cephfs.go: patch does not apply\n';
    expect(explainRejectedPatch(failed, files, 'fix.patch', 'v1.11.0')).toMatch(/^fix\.patch: hunk #2 of pkg\/volume\/cephfs\/cephfs\.go \(@@ -405,6 \+442,11 @@ func \(cephfsVolume \*cephfs\) execFuseMount\(mountpoint string\) error \{\) does not apply to v1\.11\.0/);
    expect(explainRejectedPatch('error: patch failed: a.go:7\n', files, 'fix.patch', 'v1')).toContain('the hunk at a.go:7');
    expect(explainRejectedPatch('error: pkg/volume/cephfs/cephfs.go: No such file or directory\n', files, 'fix.patch', 'v1')).toBe('fix.patch: pkg/volume/cephfs/cephfs.go does not exist at v1; the patch is for another tree (check --src and --ref)');
  });
});

describe('build numbers', () => {
  it('the next free number for the ref, ignoring other refs and other kinds', () => {
    expect(nextBuildNumber([], 'v1.10.4')).toBe(1);
    const stored = ['v1.10.4-nw.1', 'v1.10.4-nw.9', 'v1.10.4-nw.10', 'v1.10.40-nw.30', 'v1.10.4-nw.01', 'v1.10.4-nw.x', 'v1.10.4'].map((version) => ({ kind: 'kubelet-binary' as const, version }));
    expect(nextBuildNumber(stored, 'v1.10.4')).toBe(11);
    expect(nextBuildNumber(stored, 'v1.10.40')).toBe(31);
    expect(buildVersion('v1.10.4', 3)).toBe('v1.10.4-nw.3');
  });

  it('a ref that cannot name a version is refused', () => {
    expect(() => checkRef('origin/release-1.10')).toThrow(/cannot name an artifact version/);
    expect(() => checkRef('v1.10.4')).not.toThrow();
  });
});

describe('the planned build', () => {
  const req = (over: Partial<BuildRequest> = {}): BuildRequest => ({
    src: '/src/kubernetes',
    ref: 'v1.10.4',
    version: 'v1.10.4-nw.3',
    patchFile: '/p/fix.patch',
    go: { bin: '/usr/local/go/bin/go', binDir: '/usr/local/go/bin', goroot: '/usr/local/go', version: 'go version go1.10.8 linux/amd64' },
    workDir: '/tmp/nw-x',
    logFile: '/tmp/b.log',
    makeTimeoutMs: 3_600_000,
    env: { HOME: '/home/op', GOPATH: '/home/op/go', NODEWRIGHT_OPERATOR_CONFIG: '/home/op/operator.yaml', SECRET_TOKEN: 's3cret' },
    ...over,
  });

  it('a detached worktree in the scratch dir, the patch checked then applied there, make with the go first on PATH', () => {
    const p = planKubeletBuild(req());
    expect(p.worktree).toBe('/tmp/nw-x/kubernetes-v1.10.4');
    expect(p.output).toBe('/tmp/nw-x/kubernetes-v1.10.4/_output/bin/kubelet');
    expect(p.resolveRef.args).toEqual(['-C', '/src/kubernetes', 'rev-parse', '--verify', '--quiet', 'v1.10.4^{commit}']);
    expect(p.addWorktree('abc').args).toEqual(['-C', '/src/kubernetes', 'worktree', 'add', '--detach', '/tmp/nw-x/kubernetes-v1.10.4', 'abc']);
    expect([p.checkPatch.args, p.checkPatch.cwd]).toEqual([['apply', '--check', '/p/fix.patch'], p.worktree]);
    expect([p.applyPatch.args, p.applyPatch.cwd]).toEqual([['apply', '/p/fix.patch'], p.worktree]);
    expect(p.make).toMatchObject({ file: 'sh', args: ['-c', 'exec make WHAT=cmd/kubelet >"$1" 2>&1', 'sh', '/tmp/b.log'], cwd: p.worktree, timeoutMs: 3_600_000 });
    expect(p.make.env).toEqual({ PATH: `/usr/local/go/bin:${BASE_ENV.PATH}`, GOROOT: '/usr/local/go', GO111MODULE: 'off', HOME: '/home/op', GOPATH: '/home/op/go', KUBE_GIT_VERSION: 'v1.10.4-nw.3', KUBE_GIT_TREE_STATE: 'clean' });
    expect(p.removeWorktree.args).toEqual(['-C', '/src/kubernetes', 'worktree', 'remove', '--force', p.worktree]);
    for (const c of [p.isRepo, p.resolveRef, p.addWorktree('x'), p.checkPatch, p.make, p.removeWorktree, p.prune]) expect(c.timeoutMs).toBeGreaterThan(0);
  });

  it('no GOROOT when the go is not in a Go root; the operator may set GO111MODULE', () => {
    const p = planKubeletBuild(req({ go: { bin: '/opt/go-standin/go', binDir: '/opt/go-standin', version: 'go' }, env: { GO111MODULE: 'auto' } }));
    expect(p.make.env).toEqual({ PATH: `/opt/go-standin:${BASE_ENV.PATH}`, GO111MODULE: 'auto', KUBE_GIT_VERSION: 'v1.10.4-nw.3', KUBE_GIT_TREE_STATE: 'clean' });
  });

  it('the log tail is its last lines', () => {
    expect(logTail('a\nb\nc\n\n', 2)).toEqual(['b', 'c']);
  });
});
