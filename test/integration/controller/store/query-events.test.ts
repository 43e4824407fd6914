// queryEvents on both adapters: filters (subject, actor, kind exact or prefix), newest first,
// paging by id; and it stays fast at 100,000 events (each filter walks its index).
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import type { ControllerEvent } from '../../../../controller/store/store.js';
import { describeEachStore, type Harness } from './harness.js';
import { T0 } from '../../../fixtures/store-records.js';

const EVENTS = 100_000;

/** n events written straight into the table (appendEvent one by one would take minutes on PostgreSQL). */
async function bulkEvents(h: Harness, at: string, n: number): Promise<void> {
  // every 97th by operator:alice, every 1000th a ui.* kind, subjects w0..w999
  const select = (seq: string) => `SELECT '${T0}', CASE WHEN ${seq} % 97 = 0 THEN 'operator:alice' ELSE 'engine' END,
      CASE WHEN ${seq} % 1000 = 0 THEN 'ui.signed-in' WHEN ${seq} % 2 = 0 THEN 'rollout.wave' ELSE 'node.health' END,
      'w' || (${seq} % 1000), 'message ' || ${seq}`;
  const insert = 'INSERT INTO events (at, actor, kind, subject, message)';
  if (h.kind === 'postgres') {
    await h.rows(at, `${insert} ${select('i')} FROM generate_series(1, ${n}) AS i`);
    await h.rows(at, 'ANALYZE events');
    return;
  }
  const db = new Database(path.join(at, 'controller.db'));
  try {
    db.exec(`${insert} WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n}) ${select('i')} FROM seq`);
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

const ids = (es: ControllerEvent[]) => es.map((e) => e.id);

describeEachStore('queryEvents', (h) => {
  it('filters by subject, actor and kind (exact or prefix), newest first, paged by id', async () => {
    const s = await h.open(await h.fresh());
    const add = (actor: string, kind: string, subject: string) => s.appendEvent({ at: T0, actor, kind, subject, message: `${kind} ${subject}`, data: { n: 1 } });
    const a = await add('operator:alice', 'rollout.created', 'r1');
    const b = await add('engine', 'rollout.wave', 'r1');
    const c = await add('operator:bob', 'rollout.paused', 'r2');
    const d = await add('poller', 'node.health', 'w1');
    const e = await add('operator:alice', 'rollouts', 'r1'); // not under the 'rollout.' prefix
    const f = await add('operator:alice', 'ui.signed-in', 'operator:alice');
    expect(ids(await s.queryEvents({ limit: 100 }))).toEqual([f, e, d, c, b, a]);
    expect(ids(await s.queryEvents({ subject: 'r1', limit: 100 }))).toEqual([e, b, a]);
    expect(ids(await s.queryEvents({ actor: 'operator:alice', limit: 100 }))).toEqual([f, e, a]);
    expect(ids(await s.queryEvents({ kind: 'rollout.', limit: 100 }))).toEqual([c, b, a]);
    expect(ids(await s.queryEvents({ kind: 'rollout.wave', limit: 100 }))).toEqual([b]);
    expect(ids(await s.queryEvents({ kind: 'rollout', limit: 100 }))).toEqual([]);
    expect(ids(await s.queryEvents({ subject: 'r1', actor: 'operator:alice', kind: 'rollout.', limit: 100 }))).toEqual([a]);
    // paging: a page, then the one before its last id
    expect(ids(await s.queryEvents({ limit: 2 }))).toEqual([f, e]);
    expect(ids(await s.queryEvents({ beforeId: e, limit: 2 }))).toEqual([d, c]);
    expect(ids(await s.queryEvents({ beforeId: a, limit: 2 }))).toEqual([]);
    // empty filters are no filters; the limit is bounded to 1–1000
    expect(ids(await s.queryEvents({ subject: '', actor: '', kind: '', limit: 0 }))).toEqual([f]);
    expect((await s.queryEvents({ subject: 'w1', limit: 1 }))[0]).toEqual({ id: d, at: T0, actor: 'poller', kind: 'node.health', subject: 'w1', message: 'node.health w1', data: { n: 1 } });
  });

  it(`stays fast at ${EVENTS.toLocaleString('en')} events`, async () => {
    const at = await h.fresh();
    const s = await h.open(at);
    await bulkEvents(h, at, EVENTS);
    const queries = {
      newest: { limit: 50 },
      'rare subject': { subject: 'w7', limit: 50 },
      'rare actor': { actor: 'operator:alice', limit: 50 },
      'rare kind prefix': { kind: 'ui.', limit: 50 },
      'common kind, deep page': { kind: 'rollout.wave', beforeId: 1000, limit: 50 },
      'kind prefix + subject': { kind: 'rollout.', subject: 'w8', limit: 50 },
    };
    const timings: Record<string, number> = {};
    for (const [name, q] of Object.entries(queries)) {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const got = await s.queryEvents(q);
        runs.push(performance.now() - t);
        expect(got.length).toBeGreaterThan(0);
      }
      timings[name] = runs.sort((x, y) => x - y)[2];
    }
    console.log(`queryEvents (${h.kind}, ${EVENTS} events) median ms: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    for (const v of Object.values(timings)) expect(v).toBeLessThan(50);
    expect((await s.queryEvents({ kind: 'ui.', limit: 1000 })).length).toBe(EVENTS / 1000);
  }, 120_000);
});
