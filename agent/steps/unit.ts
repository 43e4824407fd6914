// kubelet unit: make sure each bind mount of the policy is in RKT_RUN_ARGS/RKT_OPTS
// (the rkt unit editor plans the edit), reload, restart, and read the effective value back.
import { unitName, unitPath, type DesiredState } from '../../protocol/desired.js';
import { applyChanges, loadUnitSources, planUnitBindMount, unifiedDiff, type UnitChange, type UnitSources } from '../unit-editor.js';
import {
  clearInflight,
  effectiveEnvironment,
  missingExpectations,
  reloadAndRestart,
  restoreUnit,
  verifyUnit,
  writeUnitChanges,
  type Expectation,
  type UnitUndo,
} from '../unit-changes.js';
import type { Step } from './types.js';

export interface UnitObserved {
  sources: UnitSources;
  effective: { env: Record<string, string>; needReload: boolean } | null;
}
export interface UnitPlan {
  unit: string;
  changes: UnitChange[];
  expect: Expectation[];
  summary: string[];
  reloadOnly: boolean;
  diff: string;
}

/** Plan every bind mount on top of the previous one's result; merge changes per file. */
export async function planUnit(o: UnitObserved, d: DesiredState): Promise<UnitPlan | null> {
  let src = o.sources;
  const byPath = new Map<string, UnitChange>();
  const expect = new Map<string, string>();
  const summary: string[] = [];
  for (const m of d.unit!.bindMounts) {
    const p = await planUnitBindMount(src, m);
    for (const c of p.changes) {
      const prev = byPath.get(c.path);
      byPath.set(c.path, { path: c.path, before: prev ? prev.before : c.before, after: c.after });
    }
    if (p.changes.length) summary.push(p.summary);
    expect.set(p.variable, p.value);
    src = applyChanges(src, p.changes);
  }
  const exp = [...expect].map(([variable, value]) => ({ variable, value }));
  const changes = [...byPath.values()];
  const unit = unitName(d);
  if (changes.length) {
    const diffs = await Promise.all(changes.map((c) => unifiedDiff(c.path, c.before ?? '', c.after)));
    return { unit, changes, expect: exp, summary, reloadOnly: false, diff: diffs.join('\n') };
  }
  if (o.effective) {
    const missing = missingExpectations(o.effective, exp);
    if (missing.length) {
      return { unit, changes: [], expect: exp, summary: [`files converged but effective: ${missing.join('; ')}`], reloadOnly: true, diff: '' };
    }
  }
  return null;
}

export const unitStep: Step<UnitObserved, UnitPlan, UnitUndo> = {
  name: 'unit',
  async skip(d) {
    if (!d.unit || d.unit.bindMounts.length === 0) return { state: 'not-configured', message: 'no bind mounts in the unit policy' };
    return null;
  },
  async observe(ctx, d) {
    const sources = await loadUnitSources(ctx.host.fs, unitPath(d));
    // The manager's view only exists on a live system (root /).
    const effective = ctx.config.root === '/' ? await effectiveEnvironment(ctx, unitName(d)) : null;
    return { sources, effective };
  },
  plan: planUnit,
  render: (p) => [...p.summary.map((s) => `# ${s}`), p.diff, p.reloadOnly ? `systemctl daemon-reload && systemctl restart ${p.unit}` : ''].filter(Boolean).join('\n'),
  newUndo: () => ({ backups: [], created: [], written: false }),
  async apply(ctx, p, _d, undo) {
    if (p.reloadOnly) await reloadAndRestart(ctx, p.unit);
    else await writeUnitChanges(ctx, p.unit, p.changes, p.expect, undo);
  },
  async verify(ctx, p) {
    await verifyUnit(ctx, p.unit, p.expect);
    if (!p.reloadOnly) await clearInflight(ctx);
    return p.reloadOnly ? `reloaded ${p.unit}` : `${p.summary.join('; ')}; ${p.unit} restarted with the new environment`;
  },
  async rollback(ctx, p, _d, undo) {
    if (!undo.written) return { note: 'nothing was written', restored: false };
    return restoreUnit(ctx, p.unit, undo);
  },
};
