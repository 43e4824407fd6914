// Set one variable where its winning assignment is defined, changing only the bytes of the
// words that differ. Whitespace the author laid out as `\`-continued lines is reused for new
// whitespace of the same shape, so appended arguments land on new continued lines indented
// like the others. Every plan is re-parsed and must yield exactly the requested value.
import { NwError } from '../host/errors.js';
import { encodeChars, quoteWord, ENV_NAME_RE, type DecodedUnit, type QuoteCtx } from './environment-syntax.js';
import { escapePercent } from './specifiers.js';
import { environmentModel, type EnvDefinition } from './environment.js';
import type { UnitSources } from './sources.js';
import type { UnitFile } from './unit.js';

export interface UnitChange {
  path: string;
  before: string;
  after: string;
}

export function planSetEnvironment(src: UnitSources, name: string, value: string): UnitChange[] {
  if (!ENV_NAME_RE.test(name)) {
    throw new NwError('NW_USAGE', `${JSON.stringify(name)} is not a valid environment variable name: use letters, digits and _`);
  }
  if (value.includes('\0')) throw new NwError('NW_USAGE', `the value for ${name} contains a NUL byte: remove it`);
  const model = environmentModel(src);
  const current = model.vars[name];
  if (current && current.value === value && !current.unresolved) return [];
  const def = model.definitions[name];
  const candidates: UnitChange[] = def ? [editInPlace(def, name, value), replaceWord(def, name, value)] : [addAssignment(model, src, name, value)];
  for (const c of candidates) {
    if (achieves(src, c, name, value)) return [c];
  }
  throw new NwError(
    'NW_UNIT_EDIT',
    `could not express ${name}=${JSON.stringify(value.slice(0, 80))} in ${def?.unit.path ?? src.main.path} so that systemd reads it back unchanged; edit the unit by hand`,
  );
}

function achieves(src: UnitSources, c: UnitChange, name: string, value: string): boolean {
  const next: UnitSources = {
    main: src.main.path === c.path ? { path: c.path, text: c.after } : src.main,
    dropIns: src.dropIns.map((d) => (d.path === c.path ? { path: c.path, text: c.after } : d)),
  };
  try {
    const v = environmentModel(next).vars[name];
    return v !== undefined && v.value === value && !v.unresolved;
  } catch (e) {
    if (e instanceof NwError) return false;
    throw e;
  }
}

/** Offset in the file just after logical index i-1 of the value (i = exclusive end). */
const endOffset = (map: number[], i: number) => map[i - 1] + 1;

function splice(unit: UnitFile, from: number, to: number, insert: string): UnitChange {
  return { path: unit.path, before: unit.text, after: unit.text.slice(0, from) + insert + unit.text.slice(to) };
}

/** The whole word rewritten as "NAME=value" (fallback). */
function replaceWord(def: EnvDefinition, name: string, value: string): UnitChange {
  const map = def.line.valueMap!;
  const a = def.assignment;
  return splice(def.unit, map[a.start], endOffset(map, a.end), quoteWord(`${name}=${escapePercent(value)}`));
}

interface Run {
  text: string;
  ws: boolean;
  units: DecodedUnit[];
}

const isWsChar = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function runsOf(units: DecodedUnit[]): Run[] {
  const runs: Run[] = [];
  for (const u of units) {
    const ws = u.text.length === 1 && isWsChar(u.text);
    const last = runs[runs.length - 1];
    if (last && last.ws === ws) {
      last.text += u.text;
      last.units.push(u);
    } else runs.push({ text: u.text, ws, units: [u] });
  }
  return runs;
}

function splitRuns(s: string): string[] {
  return s.match(/[ \t\n\r]+|[^ \t\n\r]+/g) ?? [];
}

/** Replace only the runs (words of the value, and the whitespace between them) that differ. */
function editInPlace(def: EnvDefinition, name: string, value: string): UnitChange {
  const map = def.line.valueMap!;
  const text = def.unit.text;
  const oldRuns = runsOf(def.assignment.units);
  const newRuns = splitRuns(`${name}=${escapePercent(value)}`);
  let p = 0;
  while (p < oldRuns.length && p < newRuns.length && oldRuns[p].text === newRuns[p]) p++;
  let s = 0;
  while (s < oldRuns.length - p && s < newRuns.length - p && oldRuns[oldRuns.length - 1 - s].text === newRuns[newRuns.length - 1 - s]) s++;
  const removed = oldRuns.slice(p, oldRuns.length - s).flatMap((r) => r.units);
  const inserted = newRuns.slice(p, newRuns.length - s);

  // Whitespace the author wrote as a `\`-continuation, by what it decodes to.
  const layouts = new Map<string, string>();
  oldRuns.forEach((r, k) => {
    if (!r.ws || r.units.some((u) => u.ctx === '')) return;
    // Up to the next character, so a continuation into an unindented line keeps its newline.
    const next = oldRuns[k + 1]?.units[0];
    const raw = text.slice(map[r.units[0].start], next ? map[next.start] : endOffset(map, r.units[r.units.length - 1].end));
    if (/^[ \t]*\\\n[ \t]*$/.test(raw)) layouts.set(r.text, raw);
  });

  let from: number;
  let to: number;
  let ctxStart: QuoteCtx;
  let ctxEnd: QuoteCtx;
  if (removed.length) {
    from = map[removed[0].start];
    to = endOffset(map, removed[removed.length - 1].end);
    ctxStart = removed[0].ctx;
    ctxEnd = removed[removed.length - 1].ctx;
  } else {
    const units = def.assignment.units;
    const before = p > 0 ? oldRuns[p - 1].units[oldRuns[p - 1].units.length - 1] : undefined;
    if (before) {
      from = to = endOffset(map, before.end);
      ctxStart = ctxEnd = before.ctx;
    } else {
      from = to = map[units[0].start];
      ctxStart = ctxEnd = units[0].ctx;
    }
  }
  let out = '';
  let ctx = ctxStart;
  if (ctx === '' && inserted.some((r) => /[ \t\n\r]/.test(r))) {
    out += '"';
    ctx = '"';
  }
  for (const r of inserted) out += ctx !== '' && layouts.has(r) ? layouts.get(r)! : encodeChars(r, ctx);
  if (ctx !== ctxEnd) {
    if (ctx !== '') out += ctx;
    if (ctxEnd !== '') out += ctxEnd;
  }
  return splice(def.unit, from, to, out);
}

/** A new Environment= line after the last one, or at the end of the main unit's section. */
function addAssignment(model: ReturnType<typeof environmentModel>, src: UnitSources, name: string, value: string): UnitChange {
  const line = `Environment=${quoteWord(`${name}=${escapePercent(value)}`)}\n`;
  const last = model.lastEnvironmentLine;
  if (last) {
    const end = last.line.offset + last.line.raw.length;
    return splice(last.unit, end, end, lineBreakAfter(last.unit.text, end) + line);
  }
  const unit = model.units[0];
  const lines = unit.lines;
  const sectionIdx = lines.findIndex((l) => l.kind === 'section' && l.section === unit.execSection);
  if (sectionIdx < 0) {
    const sep = unit.text === '' || unit.text.endsWith('\n') ? '' : '\n';
    return { path: src.main.path, before: unit.text, after: `${unit.text}${sep}\n[${unit.execSection}]\n${line}` };
  }
  // After the last non-blank line of that section.
  let at = sectionIdx;
  for (let k = sectionIdx + 1; k < lines.length && lines[k].kind !== 'section'; k++) {
    if (lines[k].kind !== 'blank') at = k;
  }
  const end = lines[at].offset + lines[at].raw.length;
  return splice(unit, end, end, lineBreakAfter(unit.text, end) + line);
}

/**
 * What must precede a new line inserted at `end`: a newline when the text before has none, and
 * an empty line when the line before ends in a `\` continuation (the file's last line, then),
 * which would otherwise swallow the new one.
 */
function lineBreakAfter(text: string, end: number): string {
  const before = text.slice(0, end);
  const body = before.endsWith('\n') ? before.slice(0, -1) : before;
  const lastLine = body.slice(body.lastIndexOf('\n') + 1);
  const bs = lastLine.length - lastLine.replace(/\\+$/, '').length;
  const comment = /^\s*[#;]/.test(lastLine);
  return (before.endsWith('\n') ? '' : '\n') + (bs % 2 === 1 && !comment ? '\n' : '');
}
