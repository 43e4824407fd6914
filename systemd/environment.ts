// The effective Environment= of a unit, computed the way systemd does: main unit first, then
// drop-ins in order; a later assignment of a name replaces an earlier one, an empty
// Environment= clears everything before it. EnvironmentFile= entries are reported, not read.
import { parseUnit, parseError, type EnvAssignment, type UnitFile, type UnitLine } from './unit.js';
import { resolveSpecifiers, SpecifierError } from './specifiers.js';
import { allSources, type UnitSources } from './sources.js';

export interface EnvEntry {
  value: string;
  path: string;
  line: number;
  /** Host-dependent specifiers (%H, …) left as written in value. */
  unresolved?: string[];
}

export interface EnvironmentFileRef {
  path: string;
  optional: boolean;
}

export interface EffectiveEnvironment {
  vars: Record<string, EnvEntry>;
  environmentFiles: EnvironmentFileRef[];
}

/** Where the winning assignment of each name lives (for edits). */
export interface EnvDefinition {
  unit: UnitFile;
  line: UnitLine;
  assignment: EnvAssignment;
}

export interface EnvironmentModel extends EffectiveEnvironment {
  units: UnitFile[];
  definitions: Record<string, EnvDefinition>;
  /** The last Environment= line of all files (where a new assignment goes). */
  lastEnvironmentLine: { unit: UnitFile; line: UnitLine } | null;
}

export function environmentModel(src: UnitSources): EnvironmentModel {
  const units = allSources(src).map((s) => parseUnit(s.text, s.path));
  let definitions: Record<string, EnvDefinition> = {};
  let environmentFiles: EnvironmentFileRef[] = [];
  let lastEnvironmentLine: EnvironmentModel['lastEnvironmentLine'] = null;
  for (const unit of units) {
    for (const line of unit.lines) {
      if (line.kind !== 'assignment' || line.section !== unit.execSection) continue;
      if (line.key === 'Environment') {
        lastEnvironmentLine = { unit, line };
        if (line.value === '') definitions = {};
        for (const a of line.env ?? []) definitions[a.name] = { unit, line, assignment: a };
      } else if (line.key === 'EnvironmentFile') {
        if (line.value === '') {
          environmentFiles = [];
          continue;
        }
        const optional = line.value!.startsWith('-');
        const raw = optional ? line.value!.slice(1) : line.value!;
        let p: string;
        try {
          p = resolveSpecifiers(raw, unit.unitName).text;
        } catch (e) {
          if (!(e instanceof SpecifierError)) throw e;
          throw parseError(unit.path, unit.text, { offset: line.valueMap![0], message: `EnvironmentFile= ${e.message}` });
        }
        environmentFiles.push({ path: p, optional });
      }
    }
  }
  const vars: Record<string, EnvEntry> = {};
  for (const [name, d] of Object.entries(definitions)) {
    vars[name] = {
      value: d.assignment.value,
      path: d.unit.path,
      line: d.line.line,
      ...(d.assignment.unresolved.length ? { unresolved: d.assignment.unresolved } : {}),
    };
  }
  return { vars, environmentFiles, units, definitions, lastEnvironmentLine };
}

export function effectiveEnvironment(src: UnitSources): EffectiveEnvironment {
  const { vars, environmentFiles } = environmentModel(src);
  return { vars, environmentFiles };
}
