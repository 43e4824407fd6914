// kubelet artifact. Binary: fetch (or cache) → verify sha256/size (+ optional detached signature)
// → stage next to the target → keep previous → atomic rename → restart → health gate → on failure
// automatic rollback. Image (rkt): rewrite KUBELET_IMAGE_TAG/URL in the unit with the same gate.
import { NwError } from '../../host/errors.js';
import { kubeletInstallPath, unitName, unitPath, type BinaryArtifact, type DesiredState, type ImageArtifact } from '../../protocol/desired.js';
import { verifyArtifactSignature } from '../../protocol/bundle.js';
import { fetchToFile, loadTlsMaterial, redactUrl } from '../fetch-artifact.js';
import {
  cacheCopy,
  cachePath,
  checksumError,
  copyAtomic,
  inCache,
  installFromCache,
  newFilePath,
  previousPath,
  pruneCache,
  removeStaged,
  renameInto,
  restartAndGate,
  rollbackBinary,
  shaOf,
  stagedPath,
} from '../kubelet-binary.js';
import type { ArtifactRef, PersistedState } from '../state.js';
import { loadUnitSources, planSetEnvironment, unifiedDiff, applyChanges, type UnitChange, type UnitSources } from '../unit-editor.js';
import { verifyUnit, writeUnitChanges, clearInflight, type UnitUndo } from '../unit-changes.js';
import { gate, heldReport, holding, promote, reject } from '../kubelet-verdict.js';
import { effectiveTag, imageRef, imageVars, parseImageRef, rollbackImage } from '../kubelet-image.js';
import type { Hold, Step, StepContext } from './types.js';

export interface BinaryObserved {
  kind: 'binary';
  target: string;
  currentSha: string | null;
  kubelet: PersistedState['kubelet'];
  cached: Record<string, boolean>;
}
export interface ImageObserved {
  kind: 'image';
  sources: UnitSources;
  kubelet: PersistedState['kubelet'];
}
export type ArtifactObserved = BinaryObserved | ImageObserved;

export interface BinaryPlan {
  kind: 'binary';
  target: string;
  unit: string;
  install: ArtifactRef;
  source: string;
  fromCache: boolean;
  previous: ArtifactRef | null;
  /** Re-installing the last good binary after the desired one was rejected. */
  restoring: boolean;
  /** The bytes are in place but were rejected at an older generation: restart and gate them again. */
  regate: boolean;
}
export interface ImagePlan {
  kind: 'image';
  unit: string;
  install: ArtifactRef;
  changes: UnitChange[];
  expect: { variable: string; value: string }[];
  diff: string;
  /** Re-setting the last good image after the desired one was rejected. */
  restoring: boolean;
}
export type ArtifactPlan = BinaryPlan | ImagePlan;

/** A rejected sha256 is held until a newer generation (default: held at any generation). */
export function planBinary(o: BinaryObserved, a: BinaryArtifact, unit: string, generation = Infinity): BinaryPlan | Hold | null {
  const rejected = holding(o.kubelet, a.sha256, generation);
  const want: ArtifactRef | null = rejected ? o.kubelet.lastGood : { version: a.version, sha256: a.sha256 };
  const current = o.currentSha
    ? o.kubelet.current?.sha256 === o.currentSha
      ? o.kubelet.current
      : { version: o.kubelet.lastGood?.sha256 === o.currentSha ? o.kubelet.lastGood.version : 'unknown', sha256: o.currentSha }
    : null;
  const held = rejected && heldReport(`kubelet ${a.version}`, rejected);
  if (!want) return held || null;
  if (o.currentSha === want.sha256) {
    if (held || !o.kubelet.rejected[want.sha256]) return held || null;
    const installed = { version: a.version, sha256: a.sha256 };
    return { kind: 'binary', target: o.target, unit, install: installed, source: 'in place', fromCache: false, previous: null, restoring: false, regate: true };
  }
  if (rejected && !o.cached[want.sha256]) return held || null;
  return {
    kind: 'binary',
    target: o.target,
    unit,
    install: want,
    source: rejected ? 'cache' : a.url,
    fromCache: Boolean(o.cached[want.sha256]),
    previous: current,
    restoring: Boolean(rejected),
    regate: false,
  };
}

/**
 * Set KUBELET_IMAGE_TAG (and _URL) where the unit defines them. A rejected image is held; if the
 * unit drifted away from the last good image meanwhile, that one is put back.
 */
export async function planImage(o: ImageObserved, a: ImageArtifact, unit: string, generation = Infinity): Promise<ImagePlan | Hold | null> {
  const ref = imageRef(a);
  const rejected = holding(o.kubelet, ref.sha256, generation);
  const held = rejected && heldReport(`kubelet image ${a.tag}`, rejected);
  const lastGood = rejected ? parseImageRef(o.kubelet.lastGood) : null;
  if (rejected && !lastGood) return held;
  const want = lastGood ?? a;
  let src = o.sources;
  const byPath = new Map<string, UnitChange>();
  for (const [name, value] of imageVars(want)) {
    const cs = await planSetEnvironment(src, name, value);
    for (const c of cs) byPath.set(c.path, { path: c.path, before: byPath.get(c.path)?.before ?? c.before, after: c.after });
    src = applyChanges(src, cs);
  }
  const changes = [...byPath.values()];
  // No edit but a rejection from an older generation: reload, restart and gate the tag again.
  if (!changes.length && (held || !o.kubelet.rejected[ref.sha256])) return held || null;
  const diff = (await Promise.all(changes.map((c) => unifiedDiff(c.path, c.before ?? '', c.after)))).join('\n');
  const install = rejected ? o.kubelet.lastGood! : ref;
  return { kind: 'image', unit, install, changes, expect: imageVars(want).map(([variable, value]) => ({ variable, value })), diff, restoring: Boolean(rejected) };
}

interface Undo {
  swapped: boolean;
  staged: string | null;
  unit: UnitUndo;
}

async function stageBinary(ctx: StepContext, p: BinaryPlan, a: BinaryArtifact): Promise<string> {
  const staged = stagedPath(p.target);
  await ctx.host.fs.mkdirp(staged.slice(0, staged.lastIndexOf('/')) || '/');
  // A leftover from an earlier run (or a planted symlink) is removed, never written through.
  await removeStaged(ctx.host, staged);
  if (p.fromCache) {
    await installFromCache(ctx.host, p.install.sha256, staged);
    return staged;
  }
  const got = await fetchToFile(a.url, await newFilePath(ctx.host, staged), {
    maxBytes: Math.min(ctx.config.limits.artifactBytes, a.size),
    mode: 0o755,
    resolveLocal: (q) => ctx.host.fs.resolveReal(q),
    tls: await loadTlsMaterial(ctx.config.tls),
  });
  if (got.sha256 !== a.sha256 || got.size !== a.size) {
    await removeStaged(ctx.host, staged);
    throw checksumError(a.url, a, got);
  }
  if (a.signature) {
    if (!ctx.publicKey || !verifyArtifactSignature(got, a.signature, ctx.publicKey)) {
      await removeStaged(ctx.host, staged);
      throw new NwError('NW_SIGNATURE', `kubelet ${a.version}: the artifact's detached signature does not verify with the pinned key`);
    }
  }
  await cacheCopy(ctx.host, staged, a.sha256);
  return staged;
}

export const artifactStep: Step<ArtifactObserved, ArtifactPlan, Undo> = {
  name: 'artifact',
  blocksLaterSteps: (state) => state !== 'rolled_back',
  async skip(d) {
    return d.kubelet ? null : { state: 'not-configured', message: 'no kubelet artifact in the desired state' };
  },
  async observe(ctx, d) {
    const kubelet = ctx.state.get().kubelet;
    const a = d.kubelet!;
    if (a.kind === 'image') return { kind: 'image', sources: await loadUnitSources(ctx.host.fs, unitPath(d)), kubelet };
    const target = kubeletInstallPath(a);
    const cached: Record<string, boolean> = {};
    for (const sha of [a.sha256, kubelet.lastGood?.sha256].filter((x): x is string => Boolean(x))) cached[sha] = await inCache(ctx.host, sha);
    return { kind: 'binary', target, currentSha: await shaOf(ctx.host, target), kubelet, cached };
  },
  plan(o, d) {
    const a = d.kubelet!;
    if (o.kind === 'image' && a.kind === 'image') return planImage(o, a, unitName(d), d.generation);
    if (o.kind === 'binary' && a.kind === 'binary') return planBinary(o, a, unitName(d), d.generation);
    return null;
  },
  render(p) {
    if (p.kind === 'image') {
      return [`# kubelet image → ${p.install.version}${p.restoring ? ' [restoring last good]' : ''}`, p.diff, `systemctl daemon-reload && systemctl restart ${p.unit}; read back ${p.expect.map((e) => e.variable).join(', ')}; health gate`].join('\n');
    }
    if (p.regate) return [`# kubelet binary ${p.install.version} (${p.install.sha256.slice(0, 12)}) is in place but was rejected earlier: retry`, `systemctl restart ${p.unit}; health gate`].join('\n');
    return [
      `# kubelet binary ${p.previous ? `${p.previous.version} (${p.previous.sha256.slice(0, 12)})` : '(none)'} → ${p.install.version} (${p.install.sha256.slice(0, 12)})${p.restoring ? ' [restoring last good]' : ''}`,
      `fetch ${p.fromCache ? `cache ${p.install.sha256.slice(0, 12)}` : redactUrl(p.source)} → ${stagedPath(p.target)} (verify sha256 + size)`,
      `keep ${p.target} → ${previousPath(p.target)}; rename staged → ${p.target}`,
      `systemctl restart ${p.unit}; health gate`,
    ].join('\n');
  },
  newUndo: () => ({ swapped: false, staged: null, unit: { backups: [], created: [], written: false } }),
  async apply(ctx, p, d, undo) {
    if (p.kind === 'image') {
      await writeUnitChanges(ctx, p.unit, p.changes, p.expect, undo.unit, p.install);
      return;
    }
    if (p.regate) return;
    const a = d.kubelet as BinaryArtifact;
    const staged = await stageBinary(ctx, p, a);
    undo.staged = staged;
    await ctx.state.update((s) => {
      s.inflight = { kind: 'binary', phase: 'staged', unit: p.unit, target: p.target, staged, artifact: p.install, previous: p.previous, since: new Date().toISOString() };
    });
    await ctx.onPhase?.('artifact:staged');
    if (p.previous) {
      await cacheCopy(ctx.host, p.target, p.previous.sha256);
      await copyAtomic(ctx.host, cachePath(ctx.host, p.previous.sha256), previousPath(p.target), 0o755);
    }
    await renameInto(ctx.host, staged, p.target);
    undo.swapped = true;
    await ctx.state.update((s) => {
      if (s.inflight?.kind === 'binary') s.inflight.phase = 'swapped';
    });
    await ctx.onPhase?.('artifact:swapped');
  },
  async verify(ctx, p) {
    if (p.kind === 'image') await verifyUnit(ctx, p.unit, p.expect);
    const h = p.kind === 'image' ? await gate(ctx, p.unit) : await restartAndGate(ctx, p.unit);
    if (!h.ok) throw new NwError('NW_HEALTH', `kubelet ${p.install.version}${p.kind === 'image' ? ` (${await effectiveTag(ctx, p.unit).then((t) => `KUBELET_IMAGE_TAG=${t}`)})` : ''}: ${h.reason}`);
    await promote(ctx, p.install);
    if (p.kind === 'binary') {
      const k = ctx.state.get().kubelet;
      const dropped = await pruneCache(ctx.host, { pinned: [k.current?.sha256, k.lastGood?.sha256], keep: ctx.config.limits.artifactCacheKeep });
      if (dropped.length) ctx.log.info({ dropped }, `artifact cache: removed ${dropped.length} old artifact(s)`);
    }
    return `kubelet ${p.install.version} installed and healthy (${h.reason}, ${Math.round(h.waitedMs)} ms)`;
  },
  async rollback(ctx, p, d, undo, cause) {
    if (p.kind === 'image') {
      if (!undo.unit.written) return { note: 'nothing was written', restored: false };
      return rollbackImage(ctx, { unit: p.unit, undo: undo.unit, next: p.install, reason: cause.message, generation: d.generation });
    }
    if (p.regate) {
      await reject(ctx, { next: p.install, reason: cause.message, generation: d.generation, installed: p.install, rolledBack: false, attempted: false });
      return { note: `no previous kubelet binary to roll back to: ${p.install.version} stays installed and unhealthy`, restored: false };
    }
    if (!undo.swapped) {
      if (undo.staged) await removeStaged(ctx.host, undo.staged);
      await clearInflight(ctx);
      return { note: 'the running kubelet binary was not touched', restored: false };
    }
    return rollbackBinary(ctx, { unit: p.unit, target: p.target, next: p.install, previous: p.previous, reason: cause.message, generation: d.generation });
  },
};
