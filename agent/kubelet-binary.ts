// Kubelet binary files: the verified-artifact cache (state dir), staging next to the target,
// the atomic swap, and the health gate + rollback shared by the step and the recovery pass.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { NwError } from '../host/errors.js';
import type { Host } from '../host/index.js';
import { restartUnit } from '../systemd/systemctl.js';
import type { HealthResult } from './health.js';
import { gate, reject, restoredNote, type Restore } from './kubelet-verdict.js';
import { sha256File } from './fetch-artifact.js';
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

/** Copy a file (worker paths) into the cache under its sha256, if not there yet. */
export async function cacheCopy(host: Host, from: string, sha: string): Promise<void> {
  if (await inCache(host, sha)) return;
  await host.fs.mkdirp(path.posix.dirname(cachePath(host, sha)), 0o700);
  await host.fs.writeAtomic(cachePath(host, sha), await host.fs.readFile(from), { mode: 0o700, backup: false });
}

/** Atomic rename of `from` over `to` (same directory), then fsync the directory. */
export async function renameInto(host: Host, from: string, to: string): Promise<void> {
  const a = await host.fs.resolveReal(from);
  const b = await host.fs.resolveReal(to);
  await fsp.rename(a, b);
  const fh = await fsp.open(path.dirname(b), 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Put a cached artifact at the target (atomic, 0755). */
export async function installFromCache(host: Host, sha: string, target: string): Promise<void> {
  const data = await host.fs.readFile(cachePath(host, sha));
  await host.fs.writeAtomic(target, data, { mode: 0o755, backup: false });
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
  await ctx.host.fs.remove(stagedPath(o.target));
  return r;
}

export function checksumError(url: string, want: { sha256: string; size: number }, got: { sha256: string; size: number }): NwError {
  return new NwError(
    'NW_CHECKSUM',
    `artifact ${url} has sha256 ${got.sha256} and ${got.size} bytes, the signed bundle says ${want.sha256} and ${want.size} bytes: refusing to install it`,
  );
}
