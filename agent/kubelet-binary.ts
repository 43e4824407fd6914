// Kubelet binary files: the verified-artifact cache (state dir), staging next to the target,
// the atomic swap, and the health gate + rollback shared by the step and the recovery pass.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { NwError } from '../host/errors.js';
import { fsyncPath } from '../host/fs.js';
import type { Host } from '../host/index.js';
import { restartUnit } from '../systemd/systemctl.js';
import type { HealthResult } from './health.js';
import { gate, reject, restoredNote, type Restore } from './kubelet-verdict.js';
import { STAGING_FLAGS, redactUrl, sha256File } from './fetch-artifact.js';
import type { ArtifactRef } from './state.js';
import type { StepContext } from './steps/types.js';

export const stagedPath = (target: string) => path.posix.join(path.posix.dirname(target), `.${path.posix.basename(target)}.nw-staged`);
export const previousPath = (target: string) => `${target}.nw-previous`;
export const cachePath = (host: Host, sha: string) => path.posix.join(host.fs.stateDir, 'artifacts', sha);

export async function shaOf(host: Host, p: string): Promise<string | null> {
  return sha256File(await host.fs.resolveReal(p));
}

export async function inCache(host: Host, sha: string): Promise<boolean> {
  return (await shaOf(host, cachePath(host, sha))) === sha;
}

/**
 * Where a new file at worker path `p` goes: its directory's real path (symlinks there must stay
 * inside the root) + its own name, never followed (the file is opened O_EXCL|O_NOFOLLOW).
 */
export async function newFilePath(host: Host, p: string): Promise<string> {
  return path.join(await host.fs.resolveReal(path.posix.dirname(p)), path.posix.basename(p));
}

/** Remove a leftover staging file (a symlink itself, not what it points to). */
export async function removeStaged(host: Host, p: string): Promise<void> {
  await fsp.rm(await newFilePath(host, p), { force: true });
}

/**
 * Atomic streamed copy (worker paths): a fresh temp file (O_EXCL|O_NOFOLLOW) next to `to`, synced,
 * renamed over it, directory synced. Returns the sha256 of what was written.
 */
export async function copyAtomic(host: Host, from: string, to: string, mode: number): Promise<string> {
  const src = await host.fs.resolveReal(from);
  const dest = await newFilePath(host, to);
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.nw-${randomBytes(6).toString('hex')}`);
  const h = createHash('sha256');
  const fh = await fsp.open(tmp, STAGING_FLAGS, 0o600);
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20 })) {
      h.update(chunk as Buffer);
      await fh.write(chunk as Buffer);
    }
    await fh.chmod(mode);
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, dest);
    await fsyncPath(path.dirname(dest));
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw new NwError('NW_FS', `cannot copy ${from} to ${to}: ${(e as Error).message}`);
  }
  return h.digest('hex');
}

/** Copy a file (worker paths) into the cache under its sha256, if not there yet. */
export async function cacheCopy(host: Host, from: string, sha: string): Promise<void> {
  if (await inCache(host, sha)) return;
  await host.fs.mkdirp(path.posix.dirname(cachePath(host, sha)), 0o700);
  const got = await copyAtomic(host, from, cachePath(host, sha), 0o700);
  if (got !== sha) {
    await host.fs.remove(cachePath(host, sha));
    throw new NwError('NW_CHECKSUM', `${from} changed while it was copied into the artifact cache (sha256 ${got}, expected ${sha}): run the reconcile again`);
  }
}

/**
 * Keep the cache small: the current and the last good artifact always stay, plus the `keep`
 * most recently used others; the rest is removed. Returns the removed sha256s.
 */
export async function pruneCache(host: Host, o: { pinned: (string | undefined)[]; keep: number }): Promise<string[]> {
  const dir = path.posix.dirname(cachePath(host, 'x'));
  const pinned = new Set(o.pinned.filter(Boolean));
  const others: { sha: string; mtimeMs: number }[] = [];
  for (const name of await host.fs.readdir(dir)) {
    if (!/^[0-9a-f]{64}$/.test(name) || pinned.has(name)) continue;
    const st = await host.fs.stat(path.posix.join(dir, name)).catch(() => null);
    if (st) others.push({ sha: name, mtimeMs: st.mtimeMs });
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const drop = others.slice(Math.max(0, o.keep)).map((x) => x.sha);
  for (const sha of drop) await host.fs.remove(cachePath(host, sha));
  return drop;
}

/** Atomic rename of `from` over `to` (same directory), then fsync the directory. */
export async function renameInto(host: Host, from: string, to: string): Promise<void> {
  const a = await newFilePath(host, from);
  const b = await newFilePath(host, to);
  await fsp.rename(a, b);
  await fsyncPath(path.dirname(b));
}

/** Put a cached artifact at the target (atomic, 0755). */
export async function installFromCache(host: Host, sha: string, target: string): Promise<void> {
  await copyAtomic(host, cachePath(host, sha), target, 0o755);
}

export async function restartAndGate(ctx: StepContext, unit: string): Promise<HealthResult> {
  try {
    await restartUnit(ctx.host.exec, unit, { timeoutMs: ctx.config.kubelet.restartTimeoutMs });
  } catch (e) {
    return { ok: false, reason: (e as Error).message, waitedMs: 0 };
  }
  return gate(ctx, unit);
}

/**
 * The new binary did not become healthy: put the previous one back (from the cache), restart,
 * gate it, and reject the new sha256. Without a previous binary nothing is rolled back and the
 * new one stays installed; the note says so.
 */
export async function rollbackBinary(
  ctx: StepContext,
  o: { unit: string; target: string; next: ArtifactRef; previous: ArtifactRef | null; reason: string; generation: number | undefined },
): Promise<Restore> {
  let r: Restore;
  let installed: ArtifactRef = o.next;
  if (!o.previous) {
    r = { note: `no previous kubelet binary to roll back to: ${o.next.version} stays installed and unhealthy`, restored: false };
  } else if (!(await inCache(ctx.host, o.previous.sha256))) {
    r = { note: `the previous kubelet ${o.previous.version} is not in the artifact cache: nothing rolled back, ${o.next.version} stays installed and unhealthy`, restored: false };
  } else {
    await installFromCache(ctx.host, o.previous.sha256, o.target);
    installed = o.previous;
    r = restoredNote(`rolled back kubelet ${o.next.version} → ${o.previous.version}`, await restartAndGate(ctx, o.unit));
  }
  await reject(ctx, { next: o.next, reason: o.reason, generation: o.generation, installed, rolledBack: r.restored, attempted: installed !== o.next });
  await removeStaged(ctx.host, stagedPath(o.target));
  return r;
}

export function checksumError(url: string, want: { sha256: string; size: number }, got: { sha256: string; size: number }): NwError {
  return new NwError(
    'NW_CHECKSUM',
    `artifact ${redactUrl(url)} has sha256 ${got.sha256} and ${got.size} bytes, the signed bundle says ${want.sha256} and ${want.size} bytes: refusing to install it`,
  );
}
