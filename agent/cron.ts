// schedule.* expressions: classic cron, 5 fields (minute hour day-of-month month day-of-week) or 6
// with seconds first; `*` `?` `N` `a-b` `*/s` `a-b/s` `N/s`, lists, month and weekday names; local
// time; when both day fields are restricted either may match (Vixie cron). Own code instead of
// node-cron: node-cron computes every match through Intl.DateTimeFormat, which pages in ~5 MiB of
// ICU data for the daemon's whole life (bench P1), and ~20 ms of CPU at start (bench P3).
import { NwError } from '../host/errors.js';

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

export interface Cron {
  expr: string;
  second: Set<number>;
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  /** 0 = Sunday (7 is folded into 0) */
  dow: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

function parseField(text: string, f: Field, expr: string): Set<number> {
  const bad = (why: string) => new NwError('NW_CONFIG', `"${expr}": ${f.name} "${text}" ${why} (${f.min}-${f.max}${f.names ? ` or ${f.names[0]}…` : ''}; e.g. "*/5 * * * *")`);
  const value = (s: string): number => {
    const i = f.names?.indexOf(s.toLowerCase()) ?? -1;
    const n = i >= 0 ? i + (f.min === 1 ? 1 : 0) : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= f.min && n <= f.max)) throw bad('is out of range');
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\?|[0-9a-z]+(?:-[0-9a-z]+)?)(?:\/(\d+))?$/i.exec(part);
    if (!m) throw bad('is not a cron field');
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw bad('has a zero step');
    let lo: number;
    let hi: number;
    if (m[1] === '*' || m[1] === '?') [lo, hi] = [f.min, f.max];
    else if (m[1].includes('-')) [lo, hi] = m[1].split('-').map(value) as [number, number];
    else [lo, hi] = [value(m[1]), m[2] === undefined ? value(m[1]) : f.max];
    if (lo > hi) throw bad('is a backwards range');
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new NwError('NW_CONFIG', `"${expr}" is not a cron expression: 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. "*/5 * * * *"`);
  const [sec, ...rest] = parts.length === 6 ? parts : ['0', ...parts];
  const [second, minute, hour, dom, month, dow] = [sec, ...rest].map((p, i) => parseField(p, FIELDS[i], expr));
  if (dow.delete(7)) dow.add(0);
  const unrestricted = (p: string) => p === '*' || p === '?';
  return { expr, second, minute, hour, dom, month, dow, domRestricted: !unrestricted(rest[2]), dowRestricted: !unrestricted(rest[4]) };
}

const dayMatches = (c: Cron, d: Date): boolean => {
  const dom = c.dom.has(d.getDate());
  const dow = c.dow.has(d.getDay());
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
};

/** The first matching second strictly after `after` (local time), or null if none within ~5 years (e.g. "0 0 31 2 *"). */
export function nextRun(c: Cron, after: Date): Date | null {
  const d = new Date(after.getTime());
  d.setMilliseconds(0);
  d.setSeconds(d.getSeconds() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!c.month.has(d.getMonth() + 1)) d.setMonth(d.getMonth() + 1, 1), d.setHours(0, 0, 0);
    else if (!dayMatches(c, d)) d.setDate(d.getDate() + 1), d.setHours(0, 0, 0);
    else if (!c.hour.has(d.getHours())) d.setHours(d.getHours() + 1, 0, 0);
    else if (!c.minute.has(d.getMinutes())) d.setMinutes(d.getMinutes() + 1, 0);
    else if (!c.second.has(d.getSeconds())) d.setSeconds(d.getSeconds() + 1);
    else return d;
  }
  return null;
}

export interface CronTask {
  stop(): void;
}

/** Longest single wait: timers cap at 2^31 ms, and a long sleep re-checks the wall clock daily. */
const MAX_WAIT_MS = 86_400_000;

/** Run `fn` at every match of `expr` (parsed first: a bad expression throws NW_CONFIG). */
export function scheduleCron(expr: string, fn: () => void, now: () => Date = () => new Date()): CronTask {
  const c = parseCron(expr);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const arm = (due: Date | null) => {
    if (stopped || !due) return;
    const wait = due.getTime() - now().getTime();
    timer = setTimeout(() => {
      if (now().getTime() < due.getTime()) return arm(due); // woke early (a capped wait, or the clock moved back)
      fn();
      arm(nextRun(c, due));
    }, Math.max(0, Math.min(wait, MAX_WAIT_MS)));
  };
  arm(nextRun(c, now()));
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
