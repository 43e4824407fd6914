// Fuzz the unit parser/editor: random and mutated unit texts (seeded from the fixtures) go
// through parseUnit/printUnit, effectiveEnvironment, lintUnit, planUnitBindMount,
// ensureBindMount, parseShowEnvironment and parseEnvironmentFile. Pass: no crash, no hang, only coded NwErrors,
// and every text that parses prints back byte-identical.
//   node dist/bench/fuzz-unit.js [iterations=100000] [seed]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { NwError } from '../host/errors.js';
import { parseUnit, printUnit } from '../systemd/unit.js';
import { effectiveEnvironment } from '../systemd/environment.js';
import { lintUnit } from '../systemd/lint.js';
import { parseShowEnvironment } from '../systemd/show.js';
import { parseEnvironmentFile } from '../systemd/environment-file.js';
import { planUnitBindMount } from '../rkt/unit-bind-mount.js';
import { ensureBindMount } from '../rkt/args.js';

export interface FuzzStats {
  /** Inputs asked for, and inputs actually run (fewer when the time budget ran out). */
  requested: number;
  iterations: number;
  stoppedEarly: boolean;
  parsed: number;
  codedErrors: Record<string, number>;
  failures: { input: string; error: string }[];
  maxMs: number;
  totalMs: number;
}

const ALPHABET = ['\\', '"', "'", '\n', '%', '=', '[', ']', '#', ';', ' ', '\t', '\r', '\0', 'a', 'Z', '_', '-', '/', ',', 'é', '😀', '\\\n', '%%', '\\x', '\\u', 'Environment=', '[Service]\n', '--volume ', '--mount ', 'RKT_RUN_ARGS='];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function loadCorpus(dir = path.resolve('test/fixtures/units')): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (n.isDirectory()) walk(path.join(d, n.name));
      else if (/\.(service|conf)$/.test(n.name)) out.push(readFileSync(path.join(d, n.name), 'utf8'));
    }
  };
  walk(dir);
  return out;
}

function mutate(s: string, rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = Math.floor(rnd() * 6);
    const piece = ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    if (op === 0) s = s.slice(0, at) + piece + s.slice(at);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 8));
    else if (op === 2) s = s.slice(0, at) + s.slice(at, at + Math.floor(rnd() * 40)) + s.slice(at);
    else if (op === 3) s = s.slice(0, at) + piece + s.slice(at + 1);
    else if (op === 4) {
      const lines = s.split('\n');
      const i = Math.floor(rnd() * lines.length);
      const j = Math.floor(rnd() * lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      s = lines.join('\n');
    } else s = s.slice(0, at);
  }
  return s;
}

function randomText(rnd: () => number): string {
  let s = '';
  const n = Math.floor(rnd() * 40);
  for (let k = 0; k < n; k++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

const MOUNT = { name: 'ceph-keyring', source: '/etc/ceph/ceph.client.k8s.keyring', target: '/etc/ceph/ceph.client.k8s.keyring' };

/** Run every entry point on one input; returns the error code when a coded error was thrown. */
function exercise(text: string): { parsed: boolean; codes: string[] } {
  const codes: string[] = [];
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof NwError)) throw e;
      codes.push(e.code);
    }
  };
  let parsed = false;
  const P = '/etc/systemd/system/kubelet.service';
  guard(() => {
    const u = parseUnit(text, P);
    if (printUnit(u) !== text) throw new Error('printUnit(parseUnit(x)) !== x');
    parsed = true;
  });
  lintUnit({ path: P, text });
  const src = { main: { path: P, text }, dropIns: [{ path: `${P}.d/50.conf`, text: '[Service]\nEnvironment=X=1\n' }] };
  guard(() => void effectiveEnvironment(src));
  guard(() => {
    let plan;
    try {
      plan = planUnitBindMount(src, MOUNT);
    } catch (e) {
      // a unit we parse must also be editable: NW_UNIT_EDIT here is an editor bug
      if (e instanceof NwError && e.code === 'NW_UNIT_EDIT' && /could not express/.test(e.message)) throw new Error(`NW_UNIT_EDIT on a parseable unit: ${e.message}`);
      throw e;
    }
    for (const c of plan.changes) {
      const again = planUnitBindMount({ ...src, main: c.path === P ? { path: P, text: c.after } : src.main, dropIns: src.dropIns.map((d) => (d.path === c.path ? { path: d.path, text: c.after } : d)) }, MOUNT);
      if (again.changes.length) throw new Error('planUnitBindMount is not idempotent');
    }
  });
  guard(() => void ensureBindMount(text, MOUNT));
  guard(() => void parseShowEnvironment(text));
  parseEnvironmentFile(text);
  return { parsed, codes };
}

export function fuzzUnitParser(iterations = 100_000, seed = 1, corpus = loadCorpus(), timeBudgetMs = Infinity): FuzzStats {
  const rnd = mulberry32(seed);
  const stats: FuzzStats = { requested: iterations, iterations, stoppedEarly: false, parsed: 0, codedErrors: {}, failures: [], maxMs: 0, totalMs: 0 };
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    if (performance.now() - t0 > timeBudgetMs) {
      stats.iterations = i;
      stats.stoppedEarly = true;
      break;
    }
    const input = rnd() < 0.15 ? randomText(rnd) : mutate(corpus[Math.floor(rnd() * corpus.length)], rnd);
    const t = performance.now();
    try {
      const r = exercise(input);
      if (r.parsed) stats.parsed++;
      for (const c of r.codes) stats.codedErrors[c] = (stats.codedErrors[c] ?? 0) + 1;
    } catch (e) {
      if (stats.failures.length < 20) stats.failures.push({ input, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    const dt = performance.now() - t;
    if (dt > stats.maxMs) stats.maxMs = dt;
  }
  stats.totalMs = performance.now() - t0;
  return stats;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const iterations = Number(process.argv[2] ?? 100_000);
  const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
  const s = fuzzUnitParser(iterations, seed);
  console.log(JSON.stringify({ ...s, failures: s.failures.slice(0, 3) }, null, 2));
  console.log(
    `fuzz-unit iterations=${s.iterations}/${s.requested} seed=${seed} parsed=${s.parsed} failures=${s.failures.length} max_ms=${s.maxMs.toFixed(1)} total_s=${(s.totalMs / 1000).toFixed(1)} ${s.failures.length ? 'FAIL' : 'PASS'}`,
  );
  process.exitCode = s.failures.length ? 1 : 0;
}
