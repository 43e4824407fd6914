// e2e labs run the built code (dist/): a globalSetup calls ensureFreshBuild() so a run never
// tests a stale dist/. It builds unless dist/.build-stamp is newer than every source file and
// tsconfig.json, and throws with tsc's output when tsc fails (the stamp is removed first, so a
// failed build is never taken for a fresh one). One build per run: the later setups see the stamp.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

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

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** Build dist/ unless it is fresh; throw (with tsc's errors) when the build fails. */
export function ensureFreshBuild(lab: string, o: { repo?: string; tsc?: string } = {}): 'fresh' | 'built' {
  const repo = o.repo ?? REPO;
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
