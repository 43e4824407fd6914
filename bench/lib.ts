// Benchmark conventions: medians of several runs, compared with a baseline in the same run;
// the last line is `<ID> <metric>=<value> <unit> (target <op> <value>) <PASS|MISS>`,
// and the same goes to bench/results/<ID>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface BenchResult {
  id: string;
  metric: string;
  value: number;
  unit: string;
  op: '<' | '<=' | '>=' | '==';
  target: number;
  /** A campaign's size, printed next to the value (`kills=1000`, `inputs=100000`). */
  size?: Record<string, number>;
  /** A campaign smaller than this is a MISS whatever its value (a pass on a tiny run is no pass). */
  minSize?: Record<string, number>;
  /** Parts reported on lines of their own that must pass too (a MISS of one is a MISS here). */
  also?: { name: string; pass: boolean }[];
  extra?: Record<string, unknown>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

/** bench/results/<ID>.json for a campaign that prints its own last line. */
export function writeResult(id: string, result: Record<string, unknown>): void {
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ id, ...result }, null, 2) + '\n');
}

export function report(r: BenchResult): void {
  const big = Object.entries(r.minSize ?? {}).every(([k, min]) => (r.size?.[k] ?? 0) >= min);
  const meets = { '<': (v: number, t: number) => v < t, '<=': (v: number, t: number) => v <= t, '>=': (v: number, t: number) => v >= t, '==': (v: number, t: number) => v === t }[r.op];
  const ok = big && (r.also ?? []).every((p) => p.pass) && meets(r.value, r.target);
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${r.id}.json`), JSON.stringify({ ...r, pass: ok }, null, 2) + '\n');
  const size = Object.entries(r.size ?? {}).map(([k, v]) => ` ${k}=${v}`).join('');
  console.log(`${r.id} ${r.metric}=${fmt(r.value)}${r.unit ? ` ${r.unit}` : ''}${size} (target ${r.op} ${fmt(r.target)}) ${ok ? 'PASS' : 'MISS'}`);
}
