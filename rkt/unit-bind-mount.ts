// Plan a kubelet-wrapper bind mount in a unit: pick the variable the unit already uses
// (RKT_RUN_ARGS preferred over the older RKT_OPTS; RKT_RUN_ARGS is created when neither is),
// make the --volume/--mount pair present exactly once, and set the variable where it is defined.
import { effectiveEnvironment } from '../systemd/environment.js';
import { planSetEnvironment, type UnitChange } from '../systemd/edit.js';
import type { UnitSources } from '../systemd/sources.js';
import { ensureBindMount, checkBindMount, type BindMount } from './args.js';

export type RktVariable = 'RKT_RUN_ARGS' | 'RKT_OPTS';

export interface BindMountPlan {
  variable: RktVariable;
  changes: UnitChange[];
  summary: string;
  value: string;
}

export function rktVariableOf(vars: Record<string, unknown>): RktVariable {
  if ('RKT_RUN_ARGS' in vars) return 'RKT_RUN_ARGS';
  if ('RKT_OPTS' in vars) return 'RKT_OPTS';
  return 'RKT_RUN_ARGS';
}

export function planUnitBindMount(src: UnitSources, m: BindMount): BindMountPlan {
  checkBindMount(m);
  const { vars } = effectiveEnvironment(src);
  const variable = rktVariableOf(vars);
  const current = vars[variable];
  const r = ensureBindMount(current?.value ?? '', m);
  if (!r.changed) return { variable, changes: [], summary: `${variable}: ${r.summary}`, value: r.value };
  const changes = planSetEnvironment(src, variable, r.value);
  const where = current ? `${current.path}:${current.line}` : changes[0]?.path ?? src.main.path;
  return { variable, changes, summary: `${variable} (${where}${current ? '' : ', new'}): ${r.summary}`, value: r.value };
}
