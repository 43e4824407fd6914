// lab/setup/ensure.mjs, the set-up `npm run demo` and `npm test` run first, in a small checkout of its
// own: the real script, real `npm ci` (a package with no dependencies, so no network), and an
// install-deps.sh that records each run instead of calling apt.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../tmp.js';

const SETUP = path.resolve('lab/setup');
const DEPS_SCRIPT = '#!/usr/bin/env bash\necho "$*" >> "$(dirname "$0")/../install-deps.runs"\n';
const LOCK = { name: 'fixture', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'fixture', version: '1.0.0' } } };

function checkout(): string {
  const repo = tempDir('nw-setup-');
  cpSync(SETUP, path.join(repo, 'lab/setup'), { recursive: true });
  writeFileSync(path.join(repo, 'lab/install-deps.sh'), DEPS_SCRIPT);
  writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'fixture', version: '1.0.0', private: true }));
  writeFileSync(path.join(repo, 'package-lock.json'), JSON.stringify(LOCK, null, 2));
  return repo;
}

// Without the npm_* variables of an `npm test` that may have started vitest (npm_config_local_prefix
// would point a nested npm at this repository instead of the fixture).
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function ensure(repo: string, runAs: string[] = []) {
  const t0 = performance.now();
  const r = spawnSync(runAs[0] ?? process.execPath, [...runAs.slice(1), ...(runAs.length ? [process.execPath] : []), path.join(repo, 'lab/setup/ensure.mjs')], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...cleanEnv(), npm_config_offline: 'true' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, ms: performance.now() - t0 };
}
const depsRuns = (repo: string) => (existsSync(path.join(repo, 'install-deps.runs')) ? readFileSync(path.join(repo, 'install-deps.runs'), 'utf8') : '');
const stamp = (repo: string) => JSON.parse(readFileSync(path.join(repo, 'node_modules/.nodewright-setup.json'), 'utf8'));

describe('lab/setup/ensure.mjs', () => {
  test('a fresh checkout: Debian packages, npm ci, stamp; then a no-op in well under a second', () => {
    const repo = checkout();
    const first = ensure(repo);
    expect(first.out).toContain('installing node_modules from package-lock.json (npm ci)');
    expect(first.code).toBe(0);
    expect(depsRuns(repo)).toBe('\n');
    expect(stamp(repo)).toEqual({ lock: expect.stringMatching(/^[0-9a-f]{64}$/), deps: expect.stringMatching(/^[0-9a-f]{64}$/), node: `abi${process.versions.modules}-${process.platform}-${process.arch}` });

    // The no-op: runs nothing (no npm, no install-deps.sh).
    const runs = [1, 2, 3].map(() => ensure(repo));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.out).toBe('setup: up to date (Debian packages and node_modules as recorded in node_modules/.nodewright-setup.json)\n');
    }
    expect(depsRuns(repo)).toBe('\n');
    expect(Math.min(...runs.map((r) => r.ms))).toBeLessThan(1_000);
  });

  test('a changed package-lock.json reinstalls node_modules only; a changed install-deps.sh reruns only it', () => {
    const repo = checkout();
    expect(ensure(repo).code).toBe(0);
    writeFileSync(path.join(repo, 'node_modules/left-behind'), 'x');
    writeFileSync(path.join(repo, 'package-lock.json'), JSON.stringify(LOCK));
    const lockChanged = ensure(repo);
    expect(lockChanged.code).toBe(0);
    expect(lockChanged.out).toContain('(npm ci)');
    expect(existsSync(path.join(repo, 'node_modules/left-behind'))).toBe(false);
    expect(depsRuns(repo)).toBe('\n');

    writeFileSync(path.join(repo, 'lab/install-deps.sh'), `${DEPS_SCRIPT}# one more package\n`);
    const depsChanged = ensure(repo);
    expect(depsChanged.code).toBe(0);
    expect(depsChanged.out).not.toContain('npm ci');
    expect(depsRuns(repo)).toBe('\n\n');
    expect(ensure(repo).out).toContain('up to date');
  });

  test('a failed npm ci leaves no stamp, so the next run tries again', () => {
    const repo = checkout();
    // package.json and package-lock.json out of step: npm ci refuses without touching the network.
    writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'fixture', version: '1.0.0', private: true, dependencies: { 'not-in-the-lock': '1.0.0' } }));
    const r = ensure(repo);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/setup: npm ci --no-audit --no-fund exited with \d+: node_modules is not installed/);
    expect(existsSync(path.join(repo, 'node_modules/.nodewright-setup.json'))).toBe(false);
    expect(ensure(repo).out).toContain('(npm ci)');
  });

  test('node_modules linked from another checkout: never reinstalled through the link', () => {
    const repo = checkout();
    const shared = tempDir('nw-setup-shared-');
    writeFileSync(path.join(shared, 'kept'), 'x');
    symlinkSync(shared, path.join(repo, 'node_modules'));
    const r = ensure(repo);
    expect(r.code).toBe(0);
    expect(r.out).toContain('node_modules is a link to another checkout');
    expect(r.out).not.toContain('(npm ci)');
    expect(readFileSync(path.join(shared, 'kept'), 'utf8')).toBe('x');
    expect(existsSync(path.join(shared, '.nodewright-setup.json'))).toBe(false);
  });

  test('not root, Debian packages missing: refused with what to run, nothing installed', () => {
    const repo = checkout();
    chmodSync(repo, 0o755);
    // install-deps.sh --check as a non-root user finds a package missing.
    writeFileSync(path.join(repo, 'lab/install-deps.sh'), '#!/usr/bin/env bash\necho "install-deps: missing ceph-fuse" >&2; exit 1\n');
    const r = ensure(repo, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.out).toContain('lab/install-deps.sh --check');
    expect(r.out).toContain('setup: Debian packages the labs and tests need are missing (listed above) and installing them needs root');
    expect(r.out).toContain('sudo bash lab/install-deps.sh');
    expect(r.code).toBe(1);
    expect(existsSync(path.join(repo, 'node_modules'))).toBe(false);
  });
});
