// Recovery pass (before anything else at start, as kured does): a change the previous agent
// process left half-done is finished or rolled back, so the worker is consistent again. The
// in-flight record says what the change was (binary swap, kubelet image, unit edit).
import { isNwError } from '../host/errors.js';
import { removeStaged, restartAndGate, rollbackBinary, shaOf } from './kubelet-binary.js';
import { clearInflight, reloadAndRestart, restoreUnit, verifyUnit } from './unit-changes.js';
import { rollbackImage } from './kubelet-image.js';
import { gate, promote } from './kubelet-verdict.js';
import type { Inflight } from './state.js';
import type { StepContext } from './steps/types.js';

export interface RecoveryReport {
  /** `failed`: the change did not take and nothing healthy could be put back. */
  action: 'none' | 'discarded-stage' | 'finished' | 'rolled-back' | 'failed';
  message: string;
}

export async function recover(ctx: StepContext): Promise<RecoveryReport> {
  const f = ctx.state.get().inflight;
  if (!f) return { action: 'none', message: 'nothing in flight' };
  ctx.log.warn({ inflight: { kind: f.kind, phase: f.phase, since: f.since } }, 'recovery: a change was in flight when the agent stopped');
  const generation = ctx.state.get().bundle?.desired.generation;
  if (f.kind === 'binary') return recoverBinary(ctx, f, generation);
  return recoverUnitEdit(ctx, f, generation);
}

async function recoverBinary(ctx: StepContext, f: Extract<Inflight, { kind: 'binary' }>, generation: number | undefined): Promise<RecoveryReport> {
  let phase = f.phase;
  // A crash between the rename and persisting `swapped`: the target already is the new binary.
  if (phase === 'staged' && (await shaOf(ctx.host, f.target)) === f.artifact.sha256) phase = 'swapped';
  if (phase === 'staged') {
    await removeStaged(ctx.host, f.staged);
    await clearInflight(ctx);
    return { action: 'discarded-stage', message: `discarded staged kubelet ${f.artifact.version}; ${f.target} was not touched` };
  }
  const h = await restartAndGate(ctx, f.unit);
  if (h.ok) {
    await promote(ctx, f.artifact);
    return { action: 'finished', message: `finished kubelet ${f.artifact.version} swap: ${h.reason}` };
  }
  const r = await rollbackBinary(ctx, { unit: f.unit, target: f.target, next: f.artifact, previous: f.previous, reason: h.reason, generation });
  return { action: r.restored ? 'rolled-back' : 'failed', message: `kubelet ${f.artifact.version} not healthy after restart (${h.reason}): ${r.note}` };
}

/** Finish (reload, restart, read back; a kubelet image also passes the health gate) or restore the backups. */
async function recoverUnitEdit(ctx: StepContext, f: Extract<Inflight, { kind: 'image' | 'unit' }>, generation: number | undefined): Promise<RecoveryReport> {
  const image = f.kind === 'image' ? f.artifact : null;
  const what = image ? `kubelet image ${image.version} (${f.expect.map((e) => `${e.variable}=${e.value}`).join(', ')}) in ${f.unit}` : `${f.unit} edit`;
  const undo = async (reason: string): Promise<RecoveryReport> => {
    const r = image ? await rollbackImage(ctx, { unit: f.unit, undo: f, next: image, reason, generation }) : await restoreUnit(ctx, f.unit, f);
    return { action: r.restored ? 'rolled-back' : 'failed', message: `${what} did not verify (${reason}): ${r.note}` };
  };
  try {
    await reloadAndRestart(ctx, f.unit);
    await verifyUnit(ctx, f.unit, f.expect);
  } catch (e) {
    return undo(isNwError(e) ? e.message : String(e));
  }
  if (!image) {
    await clearInflight(ctx);
    return { action: 'finished', message: `finished ${what}: daemon-reload, restart, effective environment verified` };
  }
  const h = await gate(ctx, f.unit);
  if (!h.ok) return undo(h.reason);
  await promote(ctx, image);
  return { action: 'finished', message: `finished ${what}: daemon-reload, restart, effective environment verified, ${h.reason}` };
}
