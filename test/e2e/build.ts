// e2e labs run the built code (dist/): a globalSetup calls ensureFreshBuild() so a run never
// tests a stale dist/. It builds unless dist/.build-stamp is newer than every source file and
// tsconfig.json, and throws with tsc's output when tsc fails (the stamp is removed first, so a
// failed build is never taken for a fresh one). One build per run: the later setups see the stamp.
// ensureFreshPackage() does the same for the packages the labs install (dist/pkg, npm run package).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The nearest directory at or above `start` whose package.json is nodewright's, or null. */
function checkoutAbove(start: string): string | null {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nodewright') return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The repository: the checkout holding this file, or, when this file was bundled elsewhere (bench
 * P5 compiles the lab's setup into a temporary file, where import.meta.dirname is /tmp/…), the
 * checkout holding the working directory (npm runs scripts from the repository's root).
 */
export function repoRoot(o: { from?: string; cwd?: string } = {}): string {
  const from = o.from ?? import.meta.dirname;
  const cwd = o.cwd ?? process.cwd();
  const found = checkoutAbove(from) ?? checkoutAbove(cwd);
  if (!found) throw new Error(`no nodewright checkout above ${from} or the working directory ${cwd}: run this from the repository (npm run …)`);
  return found;
}

function newestSource(repo: string): { file: string; mtimeMs: number } {
  const tsconfig = JSON.parse(readFileSync(path.join(repo, 'tsconfig.json'), 'utf8')) as { include: string[] };
  let best = { file: 'tsconfig.json', mtimeMs: statSync(path.join(repo, 'tsconfig.json')).mtimeMs };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (/\.(ts|json)$/.test(e.name)) {
        const m = statSync(p).mtimeMs;
        if (m > best.mtimeMs) best = { file: path.relative(repo, p), mtimeMs: m };
      }
    }
  };
  for (const d of tsconfig.include) walk(path.join(repo, d));
  return best;
}

/** The newest file of any kind under dirs (package/install.sh, the units, the default configs). */
function newestFile(repo: string, dirs: string[]): { file: string; mtimeMs: number } {
  let best = { file: '', mtimeMs: 0 };
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
    else if (st.mtimeMs > best.mtimeMs) best = { file: path.relative(repo, p), mtimeMs: st.mtimeMs };
  };
  for (const d of dirs) walk(path.join(repo, d));
  return best;
}

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** Build dist/ unless it is fresh; throw (with tsc's errors) when the build fails. */
export function ensureFreshBuild(lab: string, o: { repo?: string; tsc?: string } = {}): 'fresh' | 'built' {
  const repo = o.repo ?? repoRoot();
  const stampFile = path.join(repo, 'dist/.build-stamp');
  const stamp = mtimeOf(stampFile);
  if (stamp !== null && stamp >= newestSource(repo).mtimeMs) return 'fresh';
  rmSync(stampFile, { force: true });
  const t0 = Date.now();
  const r = spawnSync(o.tsc ?? path.join(repo, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || String(r.error ?? r.signal);
    throw new Error(`e2e-${lab}: \`tsc -p tsconfig.json\` failed (exit ${r.status ?? r.signal}), so dist/ would be stale; fix the build first:\n${out}`);
  }
  writeFileSync(stampFile, `${new Date().toISOString()} built for e2e-${lab} in ${Date.now() - t0} ms\n`);
  return 'built';
}

/**
 * Build the agent and controller packages (and the lab-only hooked agent beside them) unless
 * dist/pkg/.package-stamp is newer than every source, package/ file, unit and the lockfile;
 * throw with the packager's output when it fails. The first run builds better-sqlite3 for the
 * packaged node (~90 s, then cached in ~/.cache/nodewright).
 */
export function ensureFreshPackage(lab: string, o: { repo?: string } = {}): 'fresh' | 'built' {
  const repo = o.repo ?? repoRoot();
  ensureFreshBuild(lab, { repo });
  const stampFile = path.join(repo, 'dist/pkg/.package-stamp');
  const stamp = mtimeOf(stampFile);
  const newest = Math.max(newestSource(repo).mtimeMs, newestFile(repo, ['package', 'systemd/units', 'package-lock.json', 'package.json']).mtimeMs);
  if (stamp !== null && stamp >= newest) return 'fresh';
  rmSync(stampFile, { force: true });
  const r = spawnSync(process.execPath, [path.join(repo, 'dist/package/build.js')], { cwd: repo, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n') || String(r.error ?? r.signal);
    throw new Error(`e2e-${lab}: \`npm run package\` (node dist/package/build.js) failed (exit ${r.status ?? r.signal}); the labs install its packages:\n${out}`);
  }
  process.stderr.write(`e2e-${lab}: ${r.stderr.trim().split('\n').at(-1) ?? 'packaged'}\n`);
  return 'built';
}

/**
 * The packaged CLI (`bin/nodewright` or `bin/nodewright-agent`: its own node 24, its bundle, the
 * controller's better-sqlite3) unpacked from dist/pkg's tarball into dist/pkg/unpacked/, again
 * whenever the tarball changed. Returns the bin's path.
 */
export function packagedBin(component: 'agent' | 'controller', o: { repo?: string } = {}): string {
  const repo = o.repo ?? repoRoot();
  const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `nodewright-${component}-${version}-linux-x64`;
  const tarball = path.join(repo, 'dist/pkg', `${name}.tar.gz`);
  const dir = path.join(repo, 'dist/pkg/unpacked');
  const bin = path.join(dir, name, 'bin', component === 'agent' ? 'nodewright-agent' : 'nodewright');
  const marker = path.join(dir, `${name}.from`);
  const want = `${statSync(tarball).mtimeMs} ${statSync(tarball).size}\n`;
  if (mtimeOf(bin) !== null && mtimeOf(marker) !== null && readFileSync(marker, 'utf8') === want) return bin;
  rmSync(path.join(dir, name), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xzf', tarball, '-C', dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`unpacking ${tarball} failed: ${r.stderr}`);
  writeFileSync(marker, want);
  return bin;
}
