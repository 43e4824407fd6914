// Adapter over the unit editor (systemd/, rkt/): the one place the agent reaches the lossless
// unit parser/editor. Loaded lazily so the agent starts fast and only pays for it when a unit step runs.
import type { RootedFs } from '../host/fs.js';

export interface UnitFile {
  path: string;
  text: string;
}
export interface UnitSources {
  main: UnitFile;
  dropIns: UnitFile[];
}
export interface UnitChange {
  path: string;
  before: string | null;
  after: string;
}
export interface BindMountPlan {
  variable: string;
  changes: UnitChange[];
  summary: string;
  value: string;
}

interface SourcesModule {
  loadUnitSources(fs: RootedFs, unitPath: string): Promise<UnitSources>;
}
interface EditModule {
  planSetEnvironment(src: UnitSources, name: string, value: string): UnitChange[];
}
interface ShowModule {
  parseShowEnvironment(text: string): Record<string, string>;
}
interface DiffModule {
  unifiedDiff(path: string, before: string, after: string): string;
}
interface BindModule {
  planUnitBindMount(src: UnitSources, m: { name: string; source: string; target: string; readOnly?: boolean }): BindMountPlan;
}

const load = <T>(p: string): Promise<T> => import(p) as Promise<T>;

export const loadUnitSources = async (fs: RootedFs, unitPath: string) =>
  (await load<SourcesModule>('../systemd/sources.js')).loadUnitSources(fs, unitPath);
export const planSetEnvironment = async (src: UnitSources, name: string, value: string) =>
  (await load<EditModule>('../systemd/edit.js')).planSetEnvironment(src, name, value);
export const parseShowEnvironment = async (text: string) =>
  (await load<ShowModule>('../systemd/show.js')).parseShowEnvironment(text);
export const unifiedDiff = async (path: string, before: string, after: string) =>
  (await load<DiffModule>('../systemd/diff.js')).unifiedDiff(path, before, after);
export const planUnitBindMount = async (
  src: UnitSources,
  m: { name: string; source: string; target: string; readOnly?: boolean },
) => (await load<BindModule>('../rkt/unit-bind-mount.js')).planUnitBindMount(src, m);

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
  next.dropIns.sort((a, b) => a.path.split('/').pop()!.localeCompare(b.path.split('/').pop()!));
  return next;
}
