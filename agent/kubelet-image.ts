// Kubelet as an rkt image (kubelet-wrapper hosts): the image is selected by KUBELET_IMAGE_TAG
// (and KUBELET_IMAGE_URL) in the kubelet unit. The health gate and the rollback of a tag edit,
// shared by the artifact step and the recovery pass.
import type { ImageArtifact } from '../protocol/desired.js';
import { gate, reject, restoredNote, type Restore } from './kubelet-verdict.js';
import type { ArtifactRef } from './state.js';
import { effectiveEnvironment, restoreUnit, type UnitUndo } from './unit-changes.js';
import type { StepContext } from './steps/types.js';

export const IMAGE_TAG = 'KUBELET_IMAGE_TAG';
export const IMAGE_URL = 'KUBELET_IMAGE_URL';

export const imageVars = (a: Pick<ImageArtifact, 'tag' | 'url'>): [string, string][] => [[IMAGE_TAG, a.tag], ...(a.url ? [[IMAGE_URL, a.url] as [string, string]] : [])];

/** Images have no sha256: the ref's key is `image:<url>:<tag>` (a tag never contains ':'). */
export const imageRef = (a: ImageArtifact): ArtifactRef => ({ version: a.version, sha256: `image:${a.url ?? ''}:${a.tag}` });

export function parseImageRef(ref: ArtifactRef | null): Pick<ImageArtifact, 'tag' | 'url'> | null {
  if (!ref?.sha256.startsWith('image:')) return null;
  const rest = ref.sha256.slice('image:'.length);
  const i = rest.lastIndexOf(':');
  return { tag: rest.slice(i + 1), ...(i > 0 ? { url: rest.slice(0, i) } : {}) };
}

/** The effective tag as PID 1 sees it (after a reload), for reports. */
export async function effectiveTag(ctx: StepContext, unit: string): Promise<string> {
  try {
    return (await effectiveEnvironment(ctx, unit)).env[IMAGE_TAG] ?? '(unset)';
  } catch (e) {
    return `(unknown: ${(e as Error).message})`;
  }
}

/**
 * The new tag did not verify or is not healthy: restore the unit backups, reload, restart,
 * gate the restored tag, and reject the new image so the periodic reconcile does not retry it.
 */
export async function rollbackImage(
  ctx: StepContext,
  o: { unit: string; undo: Pick<UnitUndo, 'backups' | 'created'>; next: ArtifactRef; reason: string; generation: number | undefined },
): Promise<Restore> {
  const restored = await restoreUnit(ctx, o.unit, o.undo);
  const tag = await effectiveTag(ctx, o.unit);
  const h = restored.restored ? await gate(ctx, o.unit) : { ok: false, reason: restored.note, waitedMs: 0 };
  const r = restoredNote(`rolled back kubelet image ${o.next.version} → ${IMAGE_TAG}=${tag} (${restored.note})`, h);
  const st = ctx.state.get().kubelet;
  const installed = st.lastGood && parseImageRef(st.lastGood)?.tag === tag ? st.lastGood : st.current;
  await reject(ctx, { next: o.next, reason: o.reason, generation: o.generation, installed, rolledBack: r.restored, attempted: true });
  return r;
}
