// Recovery pass (before anything else at start, as kured does): a change the previous agent
// process left half-done is finished or rolled back, so the worker is consistent again.
import { isNwError } from '../host/errors.js';
import { restartAndGate, rollbackBinary, shaOf } from './kubelet-binary.js';
import { clearInflight, reloadAndRestart, restoreUnit, verifyUnit } from './unit-changes.js';
import { IMAGE_TAG, IMAGE_URL, gateImage, imageRef, isImageEdit, parseImageRef, rollbackImage } from './kubelet-image.js';
import type { HealthResult } from './health.js';
import type { ArtifactRef } from './state.js';
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
    const at = await shaOf(ctx.host, f.target);
    // A crash between the rename and persisting `swapped`: the target already is the new binary.
    if (phase === 'staged' && at === f.next.sha256) phase = 'swapped';
    // A crash during the rollback, after the previous binary was put back and before that was
    // recorded: finish the rollback (the new one was unhealthy; its gate result is gone).
    if (phase === 'swapped' && f.previous && at === f.previous.sha256 && at !== f.next.sha256) {
      const reason = `the agent stopped while rolling back kubelet ${f.next.version} (it had failed its health gate)`;
      const note = await rollbackBinary(ctx, { unit: f.unit, target: f.target, next: f.next, previous: f.previous, reason });
      return { action: 'rolled-back', message: `finished the interrupted rollback of kubelet ${f.next.version}: ${note}` };
    }
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
  // Unit edit: finish (reload, restart, read back; a kubelet image also passes the health gate) or restore the backups.
  const expect = f.expect.map((e) => ({ variable: e.variable, value: e.contains[0] }));
  const image = isImageEdit(expect) ? inflightImage(ctx, expect) : null;
  const what = image ? `kubelet image ${image.version} (${expect.map((e) => `${e.variable}=${e.value}`).join(', ')}) in ${f.unit}` : `${f.unit} edit`;
  const undo = async (reason: string) => {
    const note = image ? await rollbackImage(ctx, { unit: f.unit, undo: f, next: image, reason }) : await restoreUnit(ctx, f.unit, f);
    return { action: 'rolled-back' as const, message: `${what} did not verify (${reason}): ${note}` };
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
  let h: HealthResult;
  try {
    h = await gateImage(ctx, f.unit);
  } catch (e) {
    h = { ok: false, reason: (e as Error).message, waitedMs: 0 };
  }
  if (!h.ok) return undo(h.reason);
  await ctx.state.update((s) => {
    s.kubelet.current = image;
    s.kubelet.lastGood = image;
    s.inflight = null;
  });
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
