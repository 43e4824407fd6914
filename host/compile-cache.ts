// The operator CLI's V8 compile cache (Node >= 22.1, module.enableCompileCache): a command compiles
// the bundle chunks it loads once, later runs read the cached code instead of parsing (bench P4).
// It lives beside the CLI's other caches, $XDG_CACHE_HOME/nodewright/compile (else ~/.cache/…),
// and only in a directory nobody else can write on the way down from /: cached code is run as
// code, so a cache another user could swap (`sudo` keeping a user's HOME) would be theirs to run.
// Where it cannot be used (a daemon with ProtectHome=, Node 20) the CLI runs as before, uncached.
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import nodeModule from 'node:module';
import os from 'node:os';
import path from 'node:path';

export type CompileCacheOutcome =
  | { status: 'enabled' | 'already'; dir: string }
  | { status: 'unsupported' | 'disabled' }
  | { status: 'refused' | 'failed'; dir: string; why: string };

export function compileCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'nodewright', 'compile');
}

export interface PathStat {
  uid: number;
  mode: number;
  isDirectory: boolean;
  isSymlink: boolean;
}

/**
 * Why `dir` is not private to `uid`, or null when it is: `dir` a directory of `uid` (or root) that
 * only its owner writes, and every entry above it owned by `uid` or root and writable by no one
 * else, unless sticky (/tmp: others cannot rename what they do not own there). A symlink on the
 * way must be `uid`'s or root's; the caller checks the resolved path the same way.
 */
export function unsafeReason(dir: string, uid: number, stat: (p: string) => PathStat): string | null {
  const own = (s: PathStat) => s.uid === uid || s.uid === 0;
  const s = stat(dir);
  if (!s.isDirectory) return `${dir} is not a directory`;
  if (!own(s) || (s.mode & 0o022) !== 0) return `${dir} is writable by another user`;
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const a = stat(p);
    if (!own(a)) return `${p} belongs to another user`;
    if (a.isDirectory && (a.mode & 0o022) !== 0 && (a.mode & 0o1000) === 0) return `${p} is writable by another user`;
    if (!a.isDirectory && !a.isSymlink) return `${p} is not a directory`;
    if (p === path.dirname(p)) return null;
  }
}

const statOf = (p: string): PathStat => {
  const s = lstatSync(p);
  return { uid: s.uid, mode: s.mode, isDirectory: s.isDirectory(), isSymlink: s.isSymbolicLink() };
};

export function enableCliCompileCache(env: NodeJS.ProcessEnv = process.env): CompileCacheOutcome {
  // Node 24's API, not in Node 20's types
  const mod = nodeModule as unknown as {
    enableCompileCache?: (dir?: string) => { status: number; directory?: string; message?: string };
    constants?: { compileCacheStatus?: Record<string, number> };
  };
  const codes = mod.constants?.compileCacheStatus;
  if (!mod.enableCompileCache || !codes) return { status: 'unsupported' };
  if (env.NODE_DISABLE_COMPILE_CACHE) return { status: 'disabled' };
  const dir = compileCacheDir(env, os.homedir());
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const uid = process.geteuid?.() ?? 0;
    const why = unsafeReason(path.resolve(dir), uid, statOf) ?? unsafeReason(realpathSync(dir), uid, statOf);
    if (why) return { status: 'refused', dir, why };
  } catch (e) {
    return { status: 'failed', dir, why: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  const r = mod.enableCompileCache(dir);
  if (r.status === codes.ENABLED) return { status: 'enabled', dir };
  if (r.status === codes.ALREADY_ENABLED) return { status: 'already', dir: r.directory ?? dir };
  if (r.status === codes.DISABLED) return { status: 'disabled' };
  return { status: 'failed', dir, why: r.message ?? 'enableCompileCache failed' };
}
