// Recovery pass (before anything else at start, as kured does): a change the previous agent
// process left half-done is finished or rolled back, so the worker is consistent again.
import { isNwError } from '../host/errors.js';
import { removeStaged, restartAndGate, rollbackBinary, shaOf } from './kubelet-binary.js';
import { clearInflight, reloadAndRestart, restoreUnit, verifyUnit } from './unit-changes.js';
import { IMAGE_TAG, IMAGE_URL, imageRef, isImageEdit, parseImageRef, rollbackImage } from './kubelet-image.js';
import { gate, promote } from './kubelet-verdict.js';
import type { ArtifactRef } from './state.js';
import type { StepContext } from './steps/types.js';

export interface RecoveryReport {
  /** `failed`: the change did not take and nothing healthy could be put back. */
  action: 'none' | 'discarded-stage' | 'finished' | 'rolled-back' | 'failed';
  message: string;
}

export async function recover(ctx: StepContext): Promise<RecoveryReport> {
  const f = ctx.state.get().inflight;
  if (!f) return { action: 'none', message: 'nothing in flight' };
  ctx.log.warn({ inflight: { step: f.step, phase: f.phase, since: f.since } }, 'recovery: a change was in flight when the agent stopped');
  const generation = ctx.state.get().bundle?.desired.generation;
  if (f.step === 'artifact') {
    let phase = f.phase;
    // A crash between the rename and persisting `swapped`: the target already is the new binary.
    if (phase === 'staged' && (await shaOf(ctx.host, f.target)) === f.next.sha256) phase = 'swapped';
    if (phase === 'staged') {
      await removeStaged(ctx.host, f.staged);
      await clearInflight(ctx);
      return { action: 'discarded-stage', message: `discarded staged kubelet ${f.next.version}; ${f.target} was not touched` };
    }
    const h = await restartAndGate(ctx, f.unit);
    if (h.ok) {
      await promote(ctx, f.next);
      return { action: 'finished', message: `finished kubelet ${f.next.version} swap: ${h.reason}` };
    }
    const r = await rollbackBinary(ctx, { unit: f.unit, target: f.target, next: f.next, previous: f.previous, reason: h.reason, generation });
    return { action: r.restored ? 'rolled-back' : 'failed', message: `kubelet ${f.next.version} not healthy after restart (${h.reason}): ${r.note}` };
  }
  // Unit edit: finish (reload, restart, read back; a kubelet image also passes the health gate) or restore the backups.
  const expect = f.expect.map((e) => ({ variable: e.variable, value: e.contains[0] }));
  const image = isImageEdit(expect) ? inflightImage(ctx, expect) : null;
  const what = image ? `kubelet image ${image.version} (${expect.map((e) => `${e.variable}=${e.value}`).join(', ')}) in ${f.unit}` : `${f.unit} edit`;
  const undo = async (reason: string): Promise<RecoveryReport> => {
    const r = image ? await rollbackImage(ctx, { unit: f.unit, undo: f, next: image, reason, generation }) : await restoreUnit(ctx, f.unit, f);
    return { action: r.restored ? 'rolled-back' : 'failed', message: `${what} did not verify (${reason}): ${r.note}` };
  };
  try {
    await reloadAndRestart(ctx, f.unit);
    await verifyUnit(ctx, f.unit, expect);
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

/** The image the interrupted edit was setting, named as the accepted bundle (or the last good one) names it. */
function inflightImage(ctx: StepContext, expect: { variable: string; value: string }[]): ArtifactRef {
  const tag = expect.find((e) => e.variable === IMAGE_TAG)!.value;
  const url = expect.find((e) => e.variable === IMAGE_URL)?.value;
  const st = ctx.state.get();
  const candidates = [st.bundle?.desired.kubelet?.kind === 'image' ? imageRef(st.bundle.desired.kubelet) : null, st.kubelet.lastGood];
  for (const ref of candidates) {
    const p = parseImageRef(ref);
    if (ref && p && p.tag === tag && (p.url ?? undefined) === url) return ref;
  }
  return imageRef({ kind: 'image', version: tag, tag, ...(url ? { url } : {}) });
}
