// Kubelet binary files: the verified-artifact cache (state dir), staging next to the target,
// the atomic swap, and the health gate + rollback shared by the step and the recovery pass.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { NwError } from '../host/errors.js';
import type { Host } from '../host/index.js';
import { restartUnit } from '../systemd/systemctl.js';
import { waitHealthy, type HealthResult } from './health.js';
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
  await restartUnit(ctx.host.exec, unit, { timeoutMs: ctx.config.kubelet.restartTimeoutMs });
  return waitHealthy(ctx.host.exec, ctx.host.clock, { unit, url: ctx.config.kubelet.healthUrl, timeoutMs: ctx.config.kubelet.healthTimeoutMs });
}

/**
 * The new binary did not become healthy: put the previous one back, restart, re-check,
 * remember the bad sha256 so the periodic reconcile does not install it again.
 */
export async function rollbackBinary(
  ctx: StepContext,
  o: { unit: string; target: string; next: ArtifactRef; previous: ArtifactRef | null; reason: string },
): Promise<string> {
  let note: string;
  if (o.previous && (await inCache(ctx.host, o.previous.sha256))) {
    await installFromCache(ctx.host, o.previous.sha256, o.target);
    let h: HealthResult;
    try {
      h = await restartAndGate(ctx, o.unit);
    } catch (e) {
      h = { ok: false, reason: (e as Error).message, waitedMs: 0 };
    }
    note = `rolled back kubelet ${o.next.version} → ${o.previous.version}, which is ${h.ok ? 'healthy again' : `still unhealthy (${h.reason})`}`;
  } else {
    note = `no previous kubelet binary to roll back to`;
  }
  await ctx.state.update((s) => {
    s.kubelet.rejected[o.next.sha256] = { version: o.next.version, reason: o.reason, at: new Date().toISOString() };
    if (o.previous) s.kubelet.current = o.previous;
    s.rollbacks += 1;
    s.inflight = null;
  });
  await ctx.host.fs.remove(stagedPath(o.target));
  return note;
}

export function checksumError(url: string, want: { sha256: string; size: number }, got: { sha256: string; size: number }): NwError {
  return new NwError(
    'NW_CHECKSUM',
    `artifact ${url} has sha256 ${got.sha256} and ${got.size} bytes, the signed bundle says ${want.sha256} and ${want.size} bytes: refusing to install it`,
  );
}
