// Native modules of the controller package: better-sqlite3 (and what it requires at run time),
// at the versions package-lock.json pins (npm pack, checked against the lock's integrity), compiled
// with node-gyp against the packaged Node's own headers (npm_config_nodedir) in a scratch dir of
// the cache — never in the checkout's node_modules. Cached by versions: ~70-90 s once, then free.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NwError } from '../host/errors.js';
import { npmPack, sh, type Runtime } from './runtime.js';

interface LockEntry {
  version: string;
  integrity: string;
  dependencies?: Record<string, string>;
}

/** What ships of each package: its run-time files only. */
const RUNTIME_FILES: Record<string, string[]> = {
  'better-sqlite3': ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node'],
  bindings: ['package.json', 'LICENSE.md', 'bindings.js'],
  'file-uri-to-path': ['package.json', 'LICENSE', 'index.js'],
};
/** install-time only (prebuilt downloads, which we never use) */
const BUILD_ONLY = new Set(['prebuild-install']);

/** name → lock entry for `root` and the packages it needs at run time, from package-lock.json. */
export function runtimeClosure(lock: { packages: Record<string, LockEntry> }, root: string): Map<string, LockEntry> {
  const out = new Map<string, LockEntry>();
  const visit = (name: string) => {
    if (out.has(name) || BUILD_ONLY.has(name)) return;
    const e = lock.packages[`node_modules/${name}`];
    if (!e) throw new NwError('NW_PKG_BUILD', `package-lock.json has no node_modules/${name}`);
    out.set(name, e);
    for (const d of Object.keys(e.dependencies ?? {})) visit(d);
  };
  visit(root);
  return out;
}

function checkIntegrity(tgz: string, integrity: string): void {
  const [algo, want] = integrity.split('-', 2);
  const got = createHash(algo).update(readFileSync(tgz)).digest('base64');
  if (got !== want) throw new NwError('NW_PKG_INTEGRITY', `${tgz}: ${algo} ${got} is not package-lock.json's ${want}`);
}

/** npm's own node-gyp (npm ships it), run by the packaged node. */
function nodeGyp(): string {
  const npmCli = realpathSync(sh('sh', ['-c', 'command -v npm']).trim());
  const gyp = path.resolve(path.dirname(npmCli), '../node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(gyp)) throw new NwError('NW_PKG_BUILD', `node-gyp not found beside npm (${gyp}); install npm with its bundled node-gyp`);
  return gyp;
}

/** A dir holding node_modules/{better-sqlite3,bindings,file-uri-to-path}, built for `rt`. */
export function ensureBetterSqlite3(rt: Runtime, lockFile: string, cacheDir: string, log: (s: string) => void = () => {}): string {
  const closure = runtimeClosure(JSON.parse(readFileSync(lockFile, 'utf8')), 'better-sqlite3');
  const key = [...closure].map(([n, e]) => `${n}-${e.version}`).join('_');
  const out = path.join(cacheDir, `native-${key}-node-${rt.pin.version}-linux-x64`);
  if (existsSync(path.join(out, '.built'))) return out;

  const scratch = `${out}.build${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  for (const [name, e] of closure) {
    const tgz = npmPack(`${name}@${e.version}`, path.join(cacheDir, 'npm'));
    checkIntegrity(tgz, e.integrity);
    const dir = path.join(scratch, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    sh('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1']);
  }
  const t0 = Date.now();
  log(`building better-sqlite3@${closure.get('better-sqlite3')!.version} against node v${rt.pin.version}'s headers (node-gyp, once; ~70-90 s)`);
  const env = {
    PATH: `${path.dirname(rt.node)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: path.join(scratch, 'home'),
    npm_config_nodedir: rt.dir,
    JOBS: '2',
  };
  sh(rt.node, [nodeGyp(), 'rebuild', '--release'], { cwd: path.join(scratch, 'node_modules/better-sqlite3'), env, timeoutMs: 900_000 });
  log(`  built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const stage = `${out}.tmp${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  for (const name of closure.keys()) {
    const files = RUNTIME_FILES[name];
    if (!files) throw new NwError('NW_PKG_BUILD', `package/native.ts does not know which files of ${name} ship: add it to RUNTIME_FILES`);
    for (const f of files) cpSync(path.join(scratch, 'node_modules', name, f), path.join(stage, 'node_modules', name, f), { recursive: true });
  }
  // proof it loads and works under the packaged node before it is cached
  const probe = `const D=require(${JSON.stringify(path.join(stage, 'node_modules/better-sqlite3'))});const d=new D(':memory:');console.log(d.prepare('select sqlite_version() v').get().v)`;
  sh(rt.node, ['-e', probe]);
  writeFileSync(path.join(stage, '.built'), `${key} node v${rt.pin.version}\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(stage, out);
  rmSync(scratch, { recursive: true, force: true });
  return out;
}
