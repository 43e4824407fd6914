// Writing unit changes safely: backups first, in-flight record, atomic writes, daemon-reload,
// restart; then the read-back through `systemctl show` (the only guard against silently dropped lines).
import { NwError } from '../host/errors.js';
import type { Backup } from '../host/fs.js';
import type { ArtifactRef, Expectation } from './state.js';
import { daemonReload, restartUnit, showUnit } from '../systemd/systemctl.js';
import { parseShowEnvironment, type UnitChange } from './unit-editor.js';
import type { StepContext } from './steps/types.js';
import type { Restore } from './kubelet-verdict.js';

export type { Expectation };
export interface UnitUndo {
  backups: Backup[];
  created: string[];
  written: boolean;
}

export const normalizeWs = (s: string) => s.split(/\s+/).filter(Boolean).join(' ');

export async function writeUnitChanges(
  ctx: StepContext,
  unit: string,
  changes: UnitChange[],
  expect: Expectation[],
  undo: UnitUndo,
  /** Set when the edit installs a kubelet image: recovery then also gates it. */
  image?: ArtifactRef,
): Promise<void> {
  for (const c of changes) {
    if (await ctx.host.fs.exists(c.path)) undo.backups.push(await ctx.host.fs.backup(c.path));
    else undo.created.push(c.path);
  }
  await ctx.state.update((s) => {
    const edit = { phase: 'written' as const, unit, backups: undo.backups, created: undo.created, expect, since: new Date().toISOString() };
    s.inflight = image ? { kind: 'image', artifact: image, ...edit } : { kind: 'unit', ...edit };
  });
  undo.written = true;
  for (const c of changes) await ctx.host.fs.writeAtomic(c.path, c.after, { backup: false });
  await ctx.onPhase?.('unit:written');
  await reloadAndRestart(ctx, unit);
}

export async function reloadAndRestart(ctx: StepContext, unit: string): Promise<void> {
  await daemonReload(ctx.host.exec);
  await restartUnit(ctx.host.exec, unit, { timeoutMs: ctx.config.kubelet.restartTimeoutMs });
}

/** Effective environment of the unit as PID 1 sees it, and whether it needs a daemon-reload. */
export async function effectiveEnvironment(ctx: StepContext, unit: string): Promise<{ env: Record<string, string>; needReload: boolean }> {
  const show = await showUnit(ctx.host.exec, unit, ['Environment', 'NeedDaemonReload']);
  const env = await parseShowEnvironment(show.Environment ?? '');
  return { env, needReload: show.NeedDaemonReload === 'yes' };
}

export function missingExpectations(eff: { env: Record<string, string>; needReload: boolean }, expect: Expectation[]): string[] {
  const out: string[] = [];
  if (eff.needReload) out.push('NeedDaemonReload=yes');
  for (const e of expect) {
    const got = eff.env[e.variable];
    if (got === undefined) out.push(`${e.variable} is not set`);
    else if (normalizeWs(got) !== normalizeWs(e.value)) out.push(`${e.variable} is "${normalizeWs(got).slice(0, 300)}"`);
  }
  return out;
}

export async function verifyUnit(ctx: StepContext, unit: string, expect: Expectation[]): Promise<void> {
  const missing = missingExpectations(await effectiveEnvironment(ctx, unit), expect);
  if (missing.length) {
    throw new NwError(
      'NW_UNIT_EDIT',
      `after daemon-reload ${unit} does not have the expected environment (${missing.join('; ')}): systemd dropped or overrode the edit; see \`journalctl -b | grep ${unit}\``,
    );
  }
}

export async function clearInflight(ctx: StepContext): Promise<void> {
  await ctx.state.update((s) => {
    s.inflight = null;
  });
}

/** Put the unit files back, reload and restart; clears the in-flight record. */
export async function restoreUnit(ctx: StepContext, unit: string, undo: Pick<UnitUndo, 'backups' | 'created'>): Promise<Restore> {
  for (const b of undo.backups) await ctx.host.fs.restore(b);
  for (const p of undo.created) await ctx.host.fs.remove(p);
  const r: Restore = { note: `restored ${undo.backups.length} unit file(s)`, restored: true };
  try {
    // A unit that crash-looped on the bad edit may have hit its start limit: clear it so the restart is accepted.
    await ctx.host.exec('systemctl', ['reset-failed', unit], { timeoutMs: 10_000, allowFailure: true });
    await reloadAndRestart(ctx, unit);
  } catch (e) {
    r.note += `; restart after restore failed: ${(e as Error).message}`;
    r.restored = false;
  }
  await clearInflight(ctx);
  return r;
}
