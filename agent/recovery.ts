// Recovery pass (before anything else at start, as kured does): a change the previous agent
// process left half-done is finished or rolled back, so the worker is consistent again.
import { isNwError } from '../host/errors.js';
import { restartAndGate, rollbackBinary, shaOf } from './kubelet-binary.js';
import { clearInflight, reloadAndRestart, restoreUnit, verifyUnit } from './unit-changes.js';
import type { StepContext } from './steps/types.js';

export interface RecoveryReport {
  action: 'none' | 'discarded-stage' | 'finished' | 'rolled-back';
  message: string;
}

export async function recover(ctx: StepContext): Promise<RecoveryReport> {
  const f = ctx.state.get().inflight;
  if (!f) return { action: 'none', message: 'nothing in flight' };
  ctx.log.warn({ inflight: { step: f.step, phase: f.phase, since: f.since } }, 'recovery: a change was in flight when the agent stopped');
  if (f.step === 'artifact') {
    let phase = f.phase;
    // A crash between the rename and persisting `swapped`: the target already is the new binary.
    if (phase === 'staged' && (await shaOf(ctx.host, f.target)) === f.next.sha256) phase = 'swapped';
    if (phase === 'staged') {
      await ctx.host.fs.remove(f.staged);
      await clearInflight(ctx);
      return { action: 'discarded-stage', message: `discarded staged kubelet ${f.next.version}; ${f.target} was not touched` };
    }
    let reason: string;
    try {
      const h = await restartAndGate(ctx, f.unit);
      if (h.ok) {
        await ctx.state.update((s) => {
          s.kubelet.current = f.next;
          s.kubelet.lastGood = f.next;
          s.inflight = null;
        });
        return { action: 'finished', message: `finished kubelet ${f.next.version} swap: ${h.reason}` };
      }
      reason = h.reason;
    } catch (e) {
      reason = isNwError(e) ? e.message : String(e);
    }
    const note = await rollbackBinary(ctx, { unit: f.unit, target: f.target, next: f.next, previous: f.previous, reason });
    return { action: 'rolled-back', message: `kubelet ${f.next.version} not healthy after restart (${reason}): ${note}` };
  }
  // Unit edit: finish (reload, restart, read back) or restore the backups.
  const expect = f.expect.map((e) => ({ variable: e.variable, value: e.contains[0] }));
  try {
    await reloadAndRestart(ctx, f.unit);
    await verifyUnit(ctx, f.unit, expect);
    await clearInflight(ctx);
    return { action: 'finished', message: `finished ${f.unit} edit (effective environment verified)` };
  } catch (e) {
    const note = await restoreUnit(ctx, f.unit, f);
    return { action: 'rolled-back', message: `${f.unit} edit did not verify (${(e as Error).message}): ${note}` };
  }
}
