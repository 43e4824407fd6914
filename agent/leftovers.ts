// Temp files a stopped agent left next to the files it manages. Every write goes through a fresh
// `.<name>.nw-<12 hex>` renamed into place (host/fs.ts writeAtomic, kubelet-binary.ts copyAtomic),
// a download through `.<name>.nw-staged`: a kill -9 between create and rename leaves them behind
// for good — a whole kubelet binary in /usr/local/bin, or half a keyring (found by bench R1).
// The recovery pass removes them: it holds the reconcile lock and runs before this process writes
// anything, so whoever created them is gone.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Host } from '../host/index.js';

export const LEFTOVER = /^\..+\.nw-(?:[0-9a-f]{12}|staged)$/;

/** Remove leftovers (files or symlinks, never followed) in worker directories `dirs`, except `keep`; the worker paths removed. */
export async function sweepLeftovers(host: Host, dirs: Iterable<string>, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    for (const name of await host.fs.readdir(dir)) {
      const p = path.posix.join(dir, name);
      if (!LEFTOVER.test(name) || keep.has(p)) continue;
      const real = path.join(await host.fs.resolveReal(dir), name);
      const st = await fsp.lstat(real).catch(() => null);
      if (!st || !(st.isFile() || st.isSymbolicLink())) continue;
      await fsp.rm(real, { force: true });
      removed.push(p);
    }
  }
  return removed;
}

/** Where the agent writes for desired paths `paths`: their directories, drop-in directories themselves, and the state dir's. */
export function writeDirs(paths: string[], stateDir: string): string[] {
  const dirs = paths.map((p) => path.posix.dirname(p));
  dirs.push(...paths.filter((p) => p.endsWith('.d')));
  dirs.push(stateDir, path.posix.join(stateDir, 'artifacts'));
  return dirs;
}
