// The one place the agent reaches the lossless unit editor (systemd/, rkt/).
import type { UnitChange } from '../systemd/edit.js';
import type { UnitSources } from '../systemd/sources.js';

export { loadUnitSources, type UnitSources } from '../systemd/sources.js';
export { planSetEnvironment, type UnitChange } from '../systemd/edit.js';
export { parseShowEnvironment } from '../systemd/show.js';
export { unifiedDiff } from '../systemd/diff.js';
export { planUnitBindMount, type BindMountPlan } from '../rkt/unit-bind-mount.js';

/** The sources as they will be after `changes` (new files become drop-ins). */
export function applyChanges(src: UnitSources, changes: UnitChange[]): UnitSources {
  const next: UnitSources = { main: { ...src.main }, dropIns: src.dropIns.map((d) => ({ ...d })) };
  for (const c of changes) {
    if (c.path === next.main.path) next.main.text = c.after;
    else {
      const d = next.dropIns.find((x) => x.path === c.path);
      if (d) d.text = c.after;
      else next.dropIns.push({ path: c.path, text: c.after });
    }
  }
  next.dropIns.sort((a, b) => Buffer.compare(Buffer.from(a.path.split('/').pop()!), Buffer.from(b.path.split('/').pop()!)));
  return next;
}
