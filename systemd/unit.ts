// A lossless model of a systemd unit file (or drop-in), read the way systemd 252's
// config_parse() reads it: comment lines (# ;) are skipped even inside a continuation, a line
// ending in an odd number of backslashes continues (that backslash becomes one space, the next
// line's indentation is kept), an empty line ends a continuation. Every logical line keeps its
// exact bytes, so printUnit(parseUnit(x)) === x; values keep a map back to byte offsets.
import path from 'node:path';
import { NwError } from '../host/errors.js';
import { ENV_NAME_RE, EnvSyntaxError, splitEnvironmentWords, type EnvWord } from './environment-syntax.js';
import { resolveSpecifiers, SpecifierError } from './specifiers.js';

export type UnitLineKind = 'blank' | 'comment' | 'section' | 'assignment' | 'invalid';

export interface EnvAssignment extends EnvWord {
  name: string;
  /** Value after unquoting, unescaping and specifier expansion. */
  value: string;
  unresolved: string[];
}

export interface UnitLine {
  kind: UnitLineKind;
  /** Exact text: all physical lines (with interleaved comment lines) and the final line break. */
  raw: string;
  /** Offset of raw in the file text. */
  offset: number;
  /** 1-based first and last physical line. */
  line: number;
  endLine: number;
  /** Section name for 'section'; the enclosing section for other lines ('' before any). */
  section: string;
  key?: string;
  /** Logical value: continuations joined, whitespace stripped at both ends. */
  value?: string;
  /** File offset of each character of value (a continuation's space maps to its backslash). */
  valueMap?: number[];
  /** For Environment= in the unit type's section: its assignments ([] = reset). */
  env?: EnvAssignment[];
}

export interface UnitFile {
  path: string;
  /** Unit name the file belongs to (for drop-ins: the unit's, not the .conf's). */
  unitName: string;
  /** Section holding Environment= for this unit type (Service for .service). */
  execSection: string;
  text: string;
  lines: UnitLine[];
}

export interface UnitProblem {
  offset: number;
  message: string;
}

const isWs = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const EXEC_SECTIONS: Record<string, string> = { service: 'Service', socket: 'Socket', mount: 'Mount', swap: 'Swap' };

/** The unit a file belongs to: kubelet.service for kubelet.service and kubelet.service.d/x.conf. */
export function unitNameOf(p: string): string {
  const base = path.posix.basename(p);
  const dir = path.posix.basename(path.posix.dirname(p));
  if (base.endsWith('.conf') && dir.endsWith('.d')) return dir.slice(0, -2);
  return base;
}

export function execSectionOf(unitName: string): string {
  const suffix = unitName.slice(unitName.lastIndexOf('.') + 1);
  return EXEC_SECTIONS[suffix] ?? 'Service';
}

/** 1-based line and column (in characters) of a file offset. */
export function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

export function parseError(file: string, text: string, p: UnitProblem): NwError {
  const { line, col } = lineColAt(text, p.offset);
  return new NwError('NW_UNIT_PARSE', `${file}:${line}:${col}: ${p.message}`, { path: file, line, col });
}

/** Parse strictly: anything systemd would reject or silently drop is NW_UNIT_PARSE. */
export function parseUnit(text: string, file: string): UnitFile {
  const { unit, problems } = scanUnit(text, file);
  if (problems.length) throw parseError(file, text, problems[0]);
  return unit;
}

export function printUnit(u: UnitFile): string {
  let s = '';
  for (const l of u.lines) s += l.raw;
  return s;
}

/** Parse leniently: the model plus every problem found (for lint and for parseUnit). */
export function scanUnit(text: string, file: string): { unit: UnitFile; problems: UnitProblem[] } {
  const unitName = unitNameOf(file);
  const execSection = execSectionOf(unitName);
  const lines: UnitLine[] = [];
  const problems: UnitProblem[] = [];
  let section = '';
  let lineNo = 0;

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' || c === '\0') {
      problems.push({
        offset: i,
        message:
          c === '\r'
            ? 'carriage return in the file (CRLF line endings?): convert the file to LF line endings (dos2unix)'
            : 'NUL byte in the file: remove it',
      });
      break;
    }
  }

  // The logical line being assembled: body ranges of its physical lines; a continued range
  // ends in the backslash, which reads as a space.
  let cur: { offset: number; line: number; segs: { start: number; end: number; cont: boolean }[] } | null = null;
  let pos = 0;
  const finish = (end: number, endLine: number) => {
    if (!cur) return;
    const raw = text.slice(cur.offset, end);
    const segs = cur.segs;
    let logical = '';
    const starts: number[] = [];
    for (const g of segs) {
      starts.push(logical.length);
      logical += g.cont ? text.slice(g.start, g.end - 1) + ' ' : text.slice(g.start, g.end);
    }
    const mapAt = (i: number): number => {
      let k = segs.length - 1;
      while (k > 0 && starts[k] > i) k--;
      return segs[k].start + (i - starts[k]);
    };
    lines.push(classify(logical, mapAt, { raw, offset: cur.offset, line: cur.line, endLine }));
    cur = null;
  };
  const classify = (
    chars: string,
    mapAt: (i: number) => number,
    base: { raw: string; offset: number; line: number; endLine: number },
  ): UnitLine => {
    let a = 0;
    let b = chars.length;
    while (a < b && isWs(chars[a])) a++;
    while (b > a && isWs(chars[b - 1])) b--;
    if (a === b) return { kind: 'blank', section, ...base };
    const l = chars.slice(a, b);
    if (l[0] === '[') {
      if (l[l.length - 1] !== ']') {
        problems.push({ offset: mapAt(a), message: `section header ${JSON.stringify(l)} lacks its closing ]: write [Name]` });
        return { kind: 'invalid', section, ...base };
      }
      section = l.slice(1, -1);
      return { kind: 'section', section, ...base };
    }
    const eq = l.indexOf('=');
    if (!section) {
      problems.push({ offset: mapAt(a), message: 'line outside any section; systemd ignores it: put it under a [Section] header' });
      return { kind: 'invalid', section, ...base };
    }
    if (eq < 0) {
      problems.push({ offset: mapAt(a), message: `no "=" in ${JSON.stringify(l.slice(0, 60))}; systemd ignores this line: write Key=value` });
      return { kind: 'invalid', section, ...base };
    }
    if (eq === 0) {
      problems.push({ offset: mapAt(a), message: 'no key name before "="; systemd ignores this line: write Key=value' });
      return { kind: 'invalid', section, ...base };
    }
    let kb = a + eq;
    while (kb > a && isWs(chars[kb - 1])) kb--;
    let va = a + eq + 1;
    while (va < b && isWs(chars[va])) va++;
    const key = chars.slice(a, kb);
    const value = chars.slice(va, b);
    const valueMap: number[] = new Array(b - va);
    for (let i = va; i < b; i++) valueMap[i - va] = mapAt(i);
    const out: UnitLine = { kind: 'assignment', section, key, value, valueMap, ...base };
    if (key === 'Environment' && section === execSection) {
      out.env = parseEnvironmentValue(value, valueMap, unitName, base, problems);
    }
    return out;
  };

  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const bodyEnd = nl < 0 ? text.length : nl;
    lineNo++;
    let bodyStart = pos;
    if (pos === 0 && text.charCodeAt(0) === 0xfeff) bodyStart = 1; // UTF-8 BOM
    let k = bodyStart;
    while (k < bodyEnd && isWs(text[k])) k++;
    if (k < bodyEnd && (text[k] === '#' || text[k] === ';')) {
      // A comment line; inside a continuation systemd skips it and keeps going.
      if (!cur) lines.push({ kind: 'comment', section, raw: text.slice(pos, end), offset: pos, line: lineNo, endLine: lineNo });
      pos = end;
      continue;
    }
    if (!cur) cur = { offset: pos, line: lineNo, segs: [] };
    let bs = 0;
    for (let j = bodyEnd - 1; j >= bodyStart && text[j] === '\\'; j--) bs++;
    const cont = bs % 2 === 1;
    cur.segs.push({ start: bodyStart, end: bodyEnd, cont });
    if (cont) {
      if (nl < 0) finish(end, lineNo);
      pos = end;
      continue;
    }
    finish(end, lineNo);
    pos = end;
  }
  finish(text.length, lineNo);
  return { unit: { path: file, unitName, execSection, text, lines }, problems };
}

function parseEnvironmentValue(
  value: string,
  map: number[],
  unitName: string,
  where: { raw: string; line: number; endLine: number },
  problems: UnitProblem[],
): EnvAssignment[] {
  const at = (i: number) => (i < map.length ? map[i] : map.length ? map[map.length - 1] + 1 : 0);
  let words: EnvWord[];
  try {
    words = splitEnvironmentWords(value);
  } catch (e) {
    if (!(e instanceof EnvSyntaxError)) throw e;
    problems.push({ offset: at(e.index), message: envSyntaxMessage(e, where) });
    return [];
  }
  const out: EnvAssignment[] = [];
  for (const w of words) {
    const eq = w.text.indexOf('=');
    const name = eq < 0 ? '' : w.text.slice(0, eq);
    if (eq < 0 || !ENV_NAME_RE.test(name)) {
      problems.push({
        offset: at(w.start),
        message: `${JSON.stringify(w.text.slice(0, 60))} is not a NAME=value assignment; systemd ignores it: write Environment="NAME=value"`,
      });
      continue;
    }
    let resolved;
    try {
      resolved = resolveSpecifiers(w.text, unitName);
    } catch (e) {
      if (!(e instanceof SpecifierError)) throw e;
      let n = 0;
      const unit = w.units.find((u) => (n += u.text.length) > e.offset);
      problems.push({ offset: at(unit ? unit.start : w.start), message: `${e.message}; systemd ignores ${name}=` });
      continue;
    }
    out.push({ ...w, name, value: resolved.text.slice(eq + 1), unresolved: resolved.unresolved });
  }
  return out;
}

/** Lines continued into this one that look like directives of their own (CamelCase Key=). */
export function swallowedDirectives(raw: string, firstLine: number): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  raw.split('\n').forEach((t, idx) => {
    if (idx > 0 && (/^\s*[A-Z][a-z][A-Za-z0-9]*=/.test(t) || /^\s*\[[A-Za-z][^\]]*\]\s*$/.test(t))) {
      out.push({ line: firstLine + idx, text: t.trim() });
    }
  });
  return out;
}

function envSyntaxMessage(e: EnvSyntaxError, where: { raw: string; line: number; endLine: number }): string {
  const base = `Environment= ${e.message}; systemd would silently ignore this whole line`;
  if (!/never closed/.test(e.message)) return `${base}: fix the escape`;
  let span = '';
  if (where.endLine > where.line) {
    const swallowed = swallowedDirectives(where.raw, where.line);
    const sw = swallowed.map((s) => `, swallowing line ${s.line} "${s.text}"`).join('');
    span = ` (its \\ continuation runs from line ${where.line} to line ${where.endLine}${sw})`;
  }
  return `${base}${span}: add the closing quote after the last argument and end the continuation there`;
}
