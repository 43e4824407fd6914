// The kubelet build's pure parts: the patch's hunks and the rejected-hunk message, the build
// number, and the planned commands (PATH, GOROOT, what reaches make's environment).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitFailure } from '../../../controller/kubelet-build/git-failure.js';
import { explainRejectedPatch, parsePatch } from '../../../controller/kubelet-build/patch.js';
import { buildVersion, checkRef, logTail, nextBuildNumber, planKubeletBuild, type BuildRequest } from '../../../controller/kubelet-build/plan.js';
import { BASE_ENV } from '../../../host/exec.js';

const PATCH = readFileSync(new URL('../../../patches/kubelet-1.10-cephfs-fuse-id.patch', import.meta.url), 'utf8');

describe('the cephfs fuse patch', () => {
  it('changes execFuseMount in cephfs.go (--id always, --client-quota below Luminous) and adds a Go test', () => {
    const files = parsePatch(PATCH, 'p');
    expect(files.map((f) => [f.path, f.hunks.map((h) => h.oldStart)])).toEqual([
      ['pkg/volume/cephfs/BUILD', [26]],
      ['pkg/volume/cephfs/cephfs.go', [342, 405]],
      ['pkg/volume/cephfs/cephfs_fuse_version_test.go', [0]],
    ]);
    const added = PATCH.split('\n').filter((l) => l.startsWith('+\t')).join('\n');
    expect(added).toContain('+\tmountArgs = append(mountArgs, "--id")\n+\tmountArgs = append(mountArgs, cephfsVolume.id)');
    expect(added).toContain('return major < 12');
    expect(added).toContain('mountArgs = append(mountArgs, "--client-quota")');
  });

  it('the hunk headers quote the real v1.10.4 lines', () => {
    expect(parsePatch(PATCH, 'p')[1].hunks.map((h) => h.header.replace(/^@@ [^@]+ @@ /, ''))).toEqual([
      'func (cephfsMounter *cephfsMounter) checkFuseMount() bool {',
      'func (cephfsVolume *cephfs) execFuseMount(mountpoint string) error {',
    ]);
  });

  it('the version check runs the ceph-fuse the mount runs (os/exec), not the plugin exec', () => {
    const added = PATCH.split('\n').filter((l) => l.startsWith('+'));
    expect(added).toContain('+\toutput, err := exec.Command("ceph-fuse", "--version").CombinedOutput()');
    expect(PATCH).toMatch(/^ \tcommand := exec\.Command\("ceph-fuse", mountArgs\.\.\.\)$/m);
    expect(added.filter((l) => /GetExec|execute\.Run/.test(l))).toEqual([]);
    expect(added).toContain('+\tif cephFuseNeedsClientQuota() {');
  });

  it('dropping --client-quota for an unreadable version is logged at warning level', () => {
    const drops = PATCH.split('\n').filter((l) => l.startsWith('+') && l.includes('mounting without --client-quota'));
    expect(drops).toHaveLength(2);
    for (const l of drops) expect(l).toMatch(/^\+\t\tglog\.Warningf\(/);
  });

  it('every Go file the patch adds is in the go_test srcs of its package BUILD', () => {
    const newFiles = [...PATCH.matchAll(/^diff --git a\/(\S+) b\/\S+\nnew file mode/gm)].map((m) => m[1]);
    expect(newFiles).toEqual(['pkg/volume/cephfs/cephfs_fuse_version_test.go']);
    const build = /^\+\+\+ b\/pkg\/volume\/cephfs\/BUILD\n([\s\S]*?)^diff --git/m.exec(PATCH)![1];
    expect(build).toMatch(/^ go_test\($/m);
    for (const f of newFiles) expect(build).toContain(`+        "${path.basename(f)}",`);
  });

  it('a text without hunks is refused', () => {
    expect(() => parsePatch('hello\n', 'x.patch')).toThrow(/NW_USAGE|not a unified patch/);
  });

  it('names the hunk git apply rejected, or the missing file', () => {
    const files = parsePatch(PATCH, 'p');
    const failed = 'error: patch failed: pkg/volume/cephfs/cephfs.go:405\nerror: pkg/volume/cephfs/cephfs.go: patch does not apply\n';
    expect(explainRejectedPatch(failed, files, 'fix.patch', 'v1.11.0')).toMatch(/^fix\.patch: hunk #2 of pkg\/volume\/cephfs\/cephfs\.go \(@@ -405,6 \+443,11 @@ func \(cephfsVolume \*cephfs\) execFuseMount\(mountpoint string\) error \{\) does not apply to v1\.11\.0/);
    expect(explainRejectedPatch('error: patch failed: a.go:7\n', files, 'fix.patch', 'v1')).toContain('the hunk at a.go:7');
    expect(explainRejectedPatch('error: pkg/volume/cephfs/cephfs.go: No such file or directory\n', files, 'fix.patch', 'v1')).toBe('fix.patch: pkg/volume/cephfs/cephfs.go does not exist at v1; the patch is for another tree (check --src and --ref)');
  });
});

describe('the fixture cephfs.go', () => {
  it('carries the real v1.10.4 text of checkFuseMount (its log call is Info, not Infof)', () => {
    const fixture = readFileSync(new URL('../../../test/fixtures/kubelet-build/tree/pkg/volume/cephfs/cephfs.go', import.meta.url), 'utf8');
    expect(fixture).toContain('func (cephfsMounter *cephfsMounter) checkFuseMount() bool {\n');
    expect(fixture).toContain('\t\t\tglog.V(4).Info("/sbin/mount.fuse.ceph exists, it should be fuse mount.")\n');
  });
});

describe('a failed git command', () => {
  const worktreeAdd = [
    'Preparing worktree (detached HEAD 5ca598b4ba)',
    'error: unable to read sha1 file of api/openapi-spec/swagger.json (0123456789abcdef0123456789abcdef01234567)',
    'error: unable to read sha1 file of Makefile (89abcdef0123456789abcdef0123456789abcdef)',
    "fatal: Could not reset index file to revision 'HEAD'.",
    '',
  ].join('\n');

  it('is reported by its error lines, not git\'s informational first line', () => {
    expect(gitFailure(worktreeAdd)).toBe("error: unable to read sha1 file of api/openapi-spec/swagger.json (0123456789abcdef0123456789abcdef01234567); fatal: Could not reset index file to revision 'HEAD'. (and 1 more error line)");
    expect(gitFailure("Preparing worktree (detached HEAD 5ca598b4ba)\nfatal: '/tmp/x' already exists\n")).toBe("fatal: '/tmp/x' already exists");
  });

  it('thousands of error lines stay one bounded line', () => {
    const many = `Preparing worktree (detached HEAD 5ca598b4ba)\n${Array.from({ length: 5000 }, (_, i) => `error: unable to read sha1 file of f${i} (x)`).join('\n')}\nfatal: Could not reset index file to revision 'HEAD'.\n`;
    const line = gitFailure(many);
    expect(line).toBe("error: unable to read sha1 file of f0 (x); fatal: Could not reset index file to revision 'HEAD'. (and 4999 more error lines)");
    expect(gitFailure(`error: ${'x'.repeat(1000)}`).length).toBe(400);
  });

  it('without error lines: its first line, from stderr or stdout', () => {
    expect(gitFailure('', 'not a repository\n')).toBe('not a repository');
    expect(gitFailure('')).toBe('git printed nothing');
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
