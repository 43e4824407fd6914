#!/usr/bin/env node
// The set-up `npm run demo` and `npm test` run first: the Debian packages (lab/install-deps.sh) and
// `npm ci`, each only when missing or stale against the stamp the last successful set-up left in
// node_modules; otherwise a no-op in well under a second. Plain Node with no dependencies, so it runs
// before node_modules exists (npm ci replaces node_modules, so it cannot be run by code loaded from it).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseStamp, planSetup } from './plan.mjs';

const repo = path.resolve(import.meta.dirname, '../..');
const nodeModules = path.join(repo, 'node_modules');
const stampFile = path.join(nodeModules, '.nodewright-setup.json');
const installDeps = path.join(repo, 'lab/install-deps.sh');

function fail(message) {
  console.error(`setup: ${message}`);
  process.exit(1);
}

function sha256Of(file) {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (e) {
    return fail(`cannot read ${path.relative(repo, file)} (${e.code ?? e.message}): run this from a complete checkout of the repository`);
  }
}

function nodeModulesKind() {
  try {
    return lstatSync(nodeModules).isSymbolicLink() ? 'link' : 'dir';
  } catch {
    return 'missing';
  }
}

function readStamp() {
  try {
    return parseStamp(JSON.parse(readFileSync(stampFile, 'utf8')));
  } catch {
    return null;
  }
}

function run(what, cmd, args) {
  console.log(`setup: ${what}`);
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit' });
  if (r.error) return { ok: false, why: `${cmd} could not start (${r.error.code ?? r.error.message})` };
  return r.status === 0 ? { ok: true } : { ok: false, why: `${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}` };
}

const want = {
  lock: sha256Of(path.join(repo, 'package-lock.json')),
  deps: sha256Of(installDeps),
  node: `abi${process.versions.modules}-${process.platform}-${process.arch}`,
};
const plan = planSetup({ want, stamp: readStamp(), nodeModules: nodeModulesKind(), root: process.getuid?.() === 0 });
for (const note of plan.notes) console.warn(`setup: ${note}`);
if (plan.steps.length === 0) {
  if (plan.notes.length === 0) console.log('setup: up to date (Debian packages and node_modules as recorded in node_modules/.nodewright-setup.json)');
  process.exit(0);
}

for (const step of plan.steps) {
  if (step === 'install-deps') {
    const r = run('installing the Debian packages the labs and tests need (lab/install-deps.sh)', 'bash', [installDeps]);
    if (!r.ok) fail(`${r.why}: the Debian packages are not all installed; see the apt output above (network, mirrors, dpkg lock)`);
  } else if (step === 'check-deps') {
    const r = run('checking the Debian packages the labs and tests need (not root: lab/install-deps.sh --check)', 'bash', [installDeps, '--check']);
    if (!r.ok) {
      fail(
        'Debian packages the labs and tests need are missing (listed above) and installing them needs root: ' +
          'run this command as root (the README\'s two commands are for a fresh Debian 12 machine, as root), ' +
          'or install them once with `sudo bash lab/install-deps.sh`',
      );
    }
  } else if (step === 'npm-ci') {
    const r = run('installing node_modules from package-lock.json (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
    if (!r.ok) fail(`${r.why}: node_modules is not installed; see npm's output above (network, registry, node-gyp)`);
  }
}

if (plan.writeStamp) {
  const tmp = `${stampFile}.${process.pid}.tmp`;
  try {
    mkdirSync(nodeModules, { recursive: true });
    writeFileSync(tmp, `${JSON.stringify(want, null, 2)}\n`);
    renameSync(tmp, stampFile);
    console.log('setup: done (node_modules/.nodewright-setup.json records what was set up)');
  } catch (e) {
    rmSync(tmp, { force: true });
    // Everything is set up; only the record is missing, so the next run checks again.
    console.warn(`setup: done, but could not record it in node_modules/.nodewright-setup.json (${e.code ?? e.message}): the next run checks again`);
  }
}
