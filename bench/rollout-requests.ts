// What the requests that read rollouts cost with a long history: 20 finished rollouts of 20,000
// nodes each (and one active rollout) in a real SQLite store. "before" repeats what GET
// /v1/rollouts, /metrics and POST /v1/rollouts each did until schema 3 (read and parse every
// rollout ever made); "after" is what they do now (a page of stored summaries, the active-rollout
// index, gauges kept in memory). Run: npm run build && node dist/bench/rollout-requests.js
// (BENCH_ROLLOUTS, BENCH_NODES change the sizes).
import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ControllerMetrics } from '../controller/metrics.js';
import { newRollout, type RolloutState } from '../controller/rollout/engine.js';
import { parseStrategy } from '../controller/rollout/strategy.js';
import { summarize } from '../controller/rollout/summary.js';
import { openSqliteStore } from '../controller/store/sqlite.js';
import { median } from './lib.js';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 20);
const NODES = Number(process.env.BENCH_NODES ?? 20_000);
const RUNS = 5;

async function time(fn: () => unknown): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-bench-rollouts-'));
  try {
    const store = openSqliteStore({ stateDir: dir });
    const names = Array.from({ length: NODES }, (_, i) => `worker-${String(i).padStart(5, '0')}`);
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const strategy = parseStrategy({ steps: '1,5,20%' });
    for (let r = 0; r < ROLLOUTS; r++) {
      const now = new Date(t0 + r * 3_600_000).toISOString();
      const s = newRollout({ id: `r${String(r).padStart(3, '0')}`, target: 'group workers', now, strategy, nodes: names.map((name) => ({ name, baseGeneration: r, previousGeneration: r || null, canRollBack: r > 0 })) });
      await store.createRollout({ id: s.id, state: s, createdAt: now, updatedAt: now }, []);
      const done: RolloutState = { ...s, version: 1, state: 'completed', nodes: s.nodes.map((n) => ({ ...n, phase: 'healthy', targetGeneration: r + 1 })) };
      await store.commitTransition(s.id, 0, done, [], []);
    }
    const liveAt = new Date(t0 + ROLLOUTS * 3_600_000).toISOString();
    const live = newRollout({ id: 'live', target: 'nodes a,b', now: liveAt, strategy, nodes: ['a', 'b'].map((name) => ({ name, baseGeneration: 0, previousGeneration: null, canRollBack: false })) });
    await store.createRollout({ id: 'live', state: live, createdAt: liveAt, updatedAt: liveAt }, []);

    // before: every request read and parsed every rollout
    const db = new Database(path.join(dir, 'controller.db'), { readonly: true });
    const everyRollout = () => (db.prepare(`SELECT state FROM rollouts ORDER BY created_at, id`).all() as { state: string }[]).map((x) => JSON.parse(x.state) as RolloutState);
    const beforeList = await time(() => everyRollout().map(summarize));
    const beforeConflict = await time(() => everyRollout().filter((s) => s.state !== 'completed' && s.state !== 'aborted').some((s) => s.nodes.some((n) => n.name === 'worker-00001')));
    db.close();

    // after
    const metrics = new ControllerMetrics();
    const healths = names.map(() => 'healthy' as const);
    metrics.nodeHealth = () => healths;
    for (const r of await store.activeRollouts()) metrics.trackRollout(r.state);
    const afterList = await time(() => store.listRollouts({ limit: 50 }));
    const afterConflict = await time(async () => (await store.activeRollouts()).some((r) => r.state.nodes.some((n) => n.name === 'worker-00001')));
    const afterMetrics = await time(() => metrics.render());
    await store.close();

    const f = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
    console.log(`${ROLLOUTS} finished rollouts of ${NODES} nodes + 1 active, median of ${RUNS}:`);
    console.log(`  GET /v1/rollouts   before ${f(beforeList)}  after ${f(afterList)} (one page of 50 summaries)`);
    console.log(`  /metrics           before ${f(beforeList)}  after ${f(afterMetrics)} (gauges in memory, ${NODES} node healths counted)`);
    console.log(`  POST /v1/rollouts  before ${f(beforeConflict)}  after ${f(afterConflict)} (conflict check over active rollouts only)`);
    const worst = Math.max(afterList, afterConflict, afterMetrics);
    console.log(`rollout-requests worst_after_ms=${worst.toFixed(2)} before_ms=${beforeList.toFixed(0)} (target < 50 ms) ${worst < 50 ? 'PASS' : 'MISS'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
