import { chmodSync, existsSync } from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCacheDir, enableCliCompileCache, unsafeReason, type PathStat } from '../../../host/compile-cache.js';
import { tempDir } from '../../tmp.js';

const ME = 1000;
const dir = (uid: number, mode: number): PathStat => ({ uid, mode: 0o040000 | mode, isDirectory: true, isSymlink: false });
const link = (uid: number): PathStat => ({ uid, mode: 0o120777, isDirectory: false, isSymlink: true });
const tree = (t: Record<string, PathStat>) => (p: string) => {
  if (!t[p]) throw new Error(`no ${p}`);
  return t[p];
};
const home = { '/': dir(0, 0o755), '/home': dir(0, 0o755), '/home/op': dir(ME, 0o750), '/home/op/.cache': dir(ME, 0o700), '/home/op/.cache/nodewright': dir(ME, 0o700) };
const CACHE = '/home/op/.cache/nodewright/compile';

describe('the CLI compile cache directory', () => {
  it('is $XDG_CACHE_HOME/nodewright/compile, else ~/.cache/nodewright/compile', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/op')).toBe('/x/cache/nodewright/compile');
    expect(compileCacheDir({}, '/home/op')).toBe(CACHE);
  });

  it('is used when it and every directory above it are the user\'s or root\'s and written by no one else', () => {
    expect(unsafeReason(CACHE, ME, tree({ ...home, [CACHE]: dir(ME, 0o700) }))).toBeNull();
    // root running it with root's own HOME
    expect(unsafeReason('/root/.cache/nodewright/compile', 0, tree({ '/': dir(0, 0o755), '/root': dir(0, 0o700), '/root/.cache': dir(0, 0o700), '/root/.cache/nodewright': dir(0, 0o700), '/root/.cache/nodewright/compile': dir(0, 0o700) }))).toBeNull();
    // under a sticky world-writable /tmp (XDG_CACHE_HOME=/tmp/…)
    expect(unsafeReason('/tmp/c/nodewright/compile', ME, tree({ '/': dir(0, 0o755), '/tmp': dir(0, 0o1777), '/tmp/c': dir(ME, 0o700), '/tmp/c/nodewright': dir(ME, 0o700), '/tmp/c/nodewright/compile': dir(ME, 0o700) }))).toBeNull();
  });

  it('is refused where another user could swap the cached code: root with a user\'s HOME, a writable parent, a foreign symlink', () => {
    // sudo keeping the operator's HOME: root would run code the operator can replace
    expect(unsafeReason(CACHE, 0, tree({ ...home, [CACHE]: dir(0, 0o700) }))).toMatch(/belongs to another user/);
    expect(unsafeReason(CACHE, ME, tree({ ...home, '/home/op/.cache': dir(ME, 0o777), [CACHE]: dir(ME, 0o700) }))).toMatch(/\/home\/op\/\.cache is writable by another user/);
    expect(unsafeReason(CACHE, ME, tree({ ...home, '/home/op/.cache': link(2000), [CACHE]: dir(ME, 0o700) }))).toMatch(/belongs to another user/);
    expect(unsafeReason(CACHE, ME, tree({ ...home, [CACHE]: dir(ME, 0o770) }))).toMatch(/compile is writable by another user/);
    expect(unsafeReason(CACHE, ME, tree({ ...home, [CACHE]: dir(2000, 0o700) }))).toMatch(/writable by another user/);
    expect(unsafeReason(CACHE, ME, tree({ ...home, [CACHE]: { uid: ME, mode: 0o100600, isDirectory: false, isSymlink: false } }))).toMatch(/not a directory/);
  });

  it('enableCliCompileCache: refused for a directory others may write; off with NODE_DISABLE_COMPILE_CACHE; nothing on a Node without the API', () => {
    const supported = typeof (nodeModule as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    const open = tempDir('nw-cc-');
    chmodSync(open, 0o777);
    const r = enableCliCompileCache({ XDG_CACHE_HOME: open });
    if (supported) expect(r).toMatchObject({ status: 'refused', why: expect.stringContaining(`${open} is writable by another user`) });
    else expect(r).toEqual({ status: 'unsupported' });
    chmodSync(open, 0o700);
    expect(enableCliCompileCache({ XDG_CACHE_HOME: open, NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ status: supported ? 'disabled' : 'unsupported' });
    expect(existsSync(path.join(open, 'nodewright/compile'))).toBe(supported);
  });
});
