// The real worker CLI (node dist/agent/cli.js, built by `npm run build`) on temp unit files.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DIR } from '../fixtures/units/index.js';

const CLI = path.resolve('dist/agent/cli.js');
const KEYRING = ['--volume', 'ceph-keyring', '--source', '/etc/ceph/ceph.client.k8s.keyring', '--target', '/etc/ceph/ceph.client.k8s.keyring'];
let tmp: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** Copy a fixture (and its .d) into a fresh dir; returns the unit path. */
function place(fixture: string, as = 'kubelet.service'): string {
  const dir = mkdtempSync(path.join(tmp, 'u-'));
  cpSync(path.join(FIXTURE_DIR, fixture), path.join(dir, as));
  if (existsSync(path.join(FIXTURE_DIR, fixture + '.d'))) cpSync(path.join(FIXTURE_DIR, fixture + '.d'), path.join(dir, as + '.d'), { recursive: true });
  return path.join(dir, as);
}
const snapshot = (p: string) => ({ text: readFileSync(p, 'utf8'), mtime: statSync(p).mtimeMs, mode: statSync(p).mode });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'nw-unit-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('nodewright-agent unit bind-mount', () => {
  test('without --write: prints the unified diff, exit 0, file untouched', () => {
    const u = place('lab-kubelet.service');
    const before = snapshot(u);
    const r = cli(['unit', 'bind-mount', '--unit', u, ...KEYRING, '--state-dir', path.join(tmp, 'state-dry')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `--- ${u}\n+++ ${u}\n@@ -9,7 +9,9 @@\n   --volume var-log,kind=host,source=/var/log\n   --mount volume=var-log,target=/var/log \\\n   --volume dns,kind=host,source=/etc/resolv.conf \\\n-  --mount volume=dns,target=/etc/resolv.conf"\n+  --mount volume=dns,target=/etc/resolv.conf \\\n+  --volume ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring \\\n+  --mount volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring"\n ExecStartPre=/bin/mkdir -p /etc/kubernetes/manifests\n ExecStart=/usr/local/bin/kubelet-standin --cluster-dns=10.3.0.10 $RKT_RUN_ARGS\n Restart=always\n`.replace(
        '   --volume var-log,kind=host,source=/var/log\n',
        '   --volume var-log,kind=host,source=/var/log \\\n',
      ),
    );
    expect(r.stderr).toMatch(/^dry run \(add --write to apply\): RKT_RUN_ARGS/);
    expect(snapshot(u)).toEqual(before);
    expect(existsSync(path.join(tmp, 'state-dry'))).toBe(false);
  });

  test('--write: atomic write keeping the mode, backup of the original, then idempotent', () => {
    const u = place('lab-kubelet.service');
    chmodSync(u, 0o640);
    const original = readFileSync(u, 'utf8');
    const state = path.join(tmp, 'state');
    const r = cli(['unit', 'bind-mount', '--unit', u, ...KEYRING, '--write', '--state-dir', state]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^--- /);
    expect(r.stderr).toMatch(/^wrote .*kubelet\.service \(backup: /);
    const now = readFileSync(u, 'utf8');
    expect(now).toContain('  --volume ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring \\\n  --mount volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring"\n');
    expect(statSync(u).mode & 0o777).toBe(0o640);
    const backupDir = path.join(state, 'backups', u.slice(1).replace(/\//g, '%2F'));
    const backups = readdirSync(backupDir);
    expect(backups).toHaveLength(1);
    expect(readFileSync(path.join(backupDir, backups[0]), 'utf8')).toBe(original);
    expect(readdirSync(path.dirname(u)).filter((n) => n.includes('.nw-'))).toEqual([]); // no temp files left

    const again = cli(['unit', 'bind-mount', '--unit', u, ...KEYRING, '--write', '--state-dir', state]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^RKT_RUN_ARGS: already present: volume ceph-keyring/);
    expect(readFileSync(u, 'utf8')).toBe(now);
    expect(readdirSync(backupDir)).toHaveLength(1);
  });

  test("the seed's kubelet.service: exit 2, NW_UNIT_PARSE with file:line:col, file untouched", () => {
    const u = place('seed-kubelet.service');
    const before = snapshot(u);
    const r = cli(['unit', 'bind-mount', '--unit', u, ...KEYRING, '--write', '--state-dir', path.join(tmp, 's2')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^NW_UNIT_PARSE: ${u.replace(/[.]/g, '\\.')}:9:13: Environment= the double quote opened here is never closed`));
    expect(snapshot(u)).toEqual(before);
  });

  test('bad input is exit 2 with a coded message and the file untouched', () => {
    const u = place('lab-kubelet.service');
    const before = snapshot(u);
    const cases: [string[], RegExp][] = [
      [['--volume', 'other', '--source', '/x', '--target', '/var/log'], /^NW_RKT_CONFLICT: target \/var\/log is already mounted from volume "var-log"/],
      [['--volume', 'ceph-keyring', '--source', 'relative/path', '--target', '/t'], /^NW_USAGE: source "relative\/path" must be an absolute path/],
      [['--volume', 'Bad_Name', '--source', '/s', '--target', '/t'], /^NW_USAGE: volume name "Bad_Name"/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['unit', 'bind-mount', '--unit', u, ...args, '--write', '--state-dir', path.join(tmp, 's3')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(snapshot(u)).toEqual(before);
    const missing = cli(['unit', 'bind-mount', '--unit', path.join(tmp, 'nope.service'), ...KEYRING]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^NW_USAGE: unit file .*nope\.service does not exist/);
    const usage = cli(['unit', 'bind-mount', '--unit', u]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/required option/);
  });

  test('drop-ins next to --unit are honoured: the winning drop-in is edited', () => {
    const u = place('dropin-override.service');
    const main = readFileSync(u, 'utf8');
    const r = cli(['unit', 'bind-mount', '--unit', u, ...KEYRING, '--write', '--state-dir', path.join(tmp, 's4'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ variable: 'RKT_RUN_ARGS', changed: true, written: true });
    expect(out.changes.map((c: { path: string }) => c.path)).toEqual([`${u}.d/50-ceph-keyring.conf`]);
    expect(readFileSync(u, 'utf8')).toBe(main);
    expect(readFileSync(`${u}.d/50-ceph-keyring.conf`, 'utf8')).toContain('--mount volume=ceph-keyring,target=/etc/ceph/ceph.client.k8s.keyring"');
  });

  test('--root: a sandbox stands in for /, backups under its state dir', () => {
    const root = mkdtempSync(path.join(tmp, 'root-'));
    mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    cpSync(path.join(FIXTURE_DIR, 'rkt-opts.service'), path.join(root, 'etc/systemd/system/kubelet.service'));
    const r = cli(['unit', 'bind-mount', '--root', root, '--unit', '/etc/systemd/system/kubelet.service', ...KEYRING, '--read-only', '--write']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^--- \/etc\/systemd\/system\/kubelet\.service/);
    expect(readFileSync(path.join(root, 'etc/systemd/system/kubelet.service'), 'utf8')).toContain(
      '--volume=ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring,readOnly=true',
    );
    expect(readdirSync(path.join(root, 'var/lib/nodewright/backups'))).toEqual(['etc%2Fsystemd%2Fsystem%2Fkubelet.service']);
    const escape = cli(['unit', 'bind-mount', '--root', root, '--unit', '/../../etc/passwd', ...KEYRING]);
    expect(escape.code).toBe(2);
    expect(escape.stderr).toMatch(/^NW_PATH_ESCAPE/);
  });

  test('an EnvironmentFile that also sets the variable is warned about', () => {
    const root = mkdtempSync(path.join(tmp, 'root-'));
    mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(path.join(root, 'etc/cluster-envs'), 'RKT_RUN_ARGS=--net=host\n');
    cpSync(path.join(FIXTURE_DIR, 'seed-kubelet-before.service'), path.join(root, 'etc/systemd/system/kubelet.service'));
    const r = cli(['unit', 'bind-mount', '--root', root, '--unit', '/etc/systemd/system/kubelet.service', ...KEYRING]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: EnvironmentFile \/etc\/cluster-envs also sets RKT_RUN_ARGS/);
  });
});

describe('nodewright-agent unit lint', () => {
  test('warnings with file:line, exit 1', () => {
    const u = place('seed-kubelet.service');
    const r = cli(['unit', 'lint', '--unit', u]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${u.replace(/[.]/g, '\\.')}:9: column 13: Environment= the double quote`));
    expect(lines[1]).toMatch(/:16: "ExecStartPre=\/usr\/bin\/mkdir -p \/etc\/ceph" is swallowed/);
  });
  test('drop-ins are linted too; a clean unit is exit 0 and silent', () => {
    const u = place('swallowed-restart.service');
    const r = cli(['unit', 'lint', '--unit', u, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.objectContaining({ line: 6 })]);
    const clean = cli(['unit', 'lint', '--unit', place('dropin-override.service')]);
    expect(clean).toMatchObject({ code: 0, stdout: '' });
  });
});
