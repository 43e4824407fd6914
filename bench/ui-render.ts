// The dashboard's fleet page for N nodes, rendered server-side through the real routes (fastify
// inject, helmet and all) from an in-memory fleet view of N nodes on N/50 hypervisors, a tenth of
// them not healthy: no store row is read per node. Prints the median and worst of 20 renders.
// Then the rollout page of an N-node rollout half-way through ~N/25 waves (25 nodes in flight or
// held, 2 failed): its render time, the page's bytes and one live message's (#rollout-live).
//   node dist/bench/ui-render.js [N=5000]
import Fastify, { type FastifyInstance } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiContext } from '../controller/api/context.js';
import { FleetView } from '../controller/fleet/view.js';
import { newRollout, type RolloutState } from '../controller/rollout/engine.js';
import { parseStrategy } from '../controller/rollout/strategy.js';
import type { NodeRecord, RolloutRecord } from '../controller/store/store.js';
import { Changes } from '../controller/ui/changes.js';
import { rolloutLive } from '../controller/ui/pages/rollout.js';
import { rolloutModel } from '../controller/ui/rollout-model.js';
import { uiRoutes } from '../controller/ui/routes.js';
import { sseText } from '../controller/ui/sse.js';

/** The dashboard's real routes (helmet and all) over `view` and a stand-in store, signed in as a bench operator. */
async function pagesApp(view: FleetView, ctx: { store: object; now: () => Date }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const session = { actor: 'operator:bench', readOnly: false, csrf: 'c'.repeat(64), expiresAt: '2099-01-01T00:00:00Z' };
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await uiRoutes({
    view, latest: () => null, executor: { command: async () => { throw new Error('unused'); } }, changes: new Changes(), queryEvents: async () => [],
    auth: { sessionOf: async () => session, checkAction: () => {} }, staticDir: path.join(dist, 'controller/ui/static/'),
  })(app, { ...ctx, operatorRoles: ['operator'] } as unknown as ApiContext);
  await app.ready();
  return app;
}

export async function measureFleetRender(n: number, runs = 20): Promise<{ medianMs: number; maxMs: number; bytes: number }> {
  const states = ['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'degraded'] as const;
  const nodes: NodeRecord[] = Array.from({ length: n }, (_, i) => ({
    name: `worker-${String(i).padStart(5, '0')}`, group: 'workers', labels: { zone: `z${i % 3}` }, url: 'https://10.0.0.1:9443', certSha256: 'x',
    facts: { hostname: `worker-${i}`, addresses: [] }, enrolledAt: '2026-12-01T00:00:00Z', hypervisor: i % 97 === 0 ? null : `hv-${String(Math.floor(i / 50)).padStart(3, '0')}`, hypervisorRule: 'instance-uuid',
    health: states[i % 10], reason: states[i % 10] === 'healthy' ? null : 'unit failed (NW_SYSTEMD)', healthSince: '2026-12-01T00:00:00Z', lastSeenAt: '2026-12-01T00:00:00Z', generation: 3, converged: true, ready: true,
  }));
  const view = await FleetView.fromStore({ listNodes: async () => nodes });
  const app = await pagesApp(view, { store: {}, now: () => new Date() });
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = await app.inject({ method: 'GET', url: '/ui/' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.statusCode !== 200) throw new Error(`GET /ui/ answered ${r.statusCode}`);
    bytes = r.body.length;
    if (i >= 3) times.push(ms); // the first renders warm the JIT
  }
  await app.close();
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], maxMs: times[times.length - 1], bytes };
}

/**
 * An N-node rollout half-way: waves of 25 after a canary and 5 (N=5,000: 202 waves), the waves
 * before the middle healthy, the middle one with 10 gating, 5 pushing and 5 held by a busy failure
 * domain, 2 failed nodes in the wave before; running, within its failure budget.
 */
export function rolloutAtScale(n: number, now: string, id = 'r-scale'): RolloutState {
  const names = Array.from({ length: n }, (_, i) => ({ name: `worker-${String(i).padStart(5, '0')}`, baseGeneration: 1, previousGeneration: 1, canRollBack: true }));
  const s = newRollout({ id, target: 'group workers', nodes: names, strategy: parseStrategy({ steps: '1,5,25', maxUnavailable: 25, failureBudget: 5, gateTimeout: '60s', minHealthy: '30s' }), now });
  const mid = Math.floor(s.waveCount / 2);
  const deadline = new Date(Date.parse(now) + 40_000).toISOString();
  let k = 0;
  let failed = 0;
  for (const x of s.nodes) {
    if (x.wave < mid) {
      const fail = x.wave === mid - 1 && failed < 2;
      if (fail) failed++;
      Object.assign(x, fail ? { phase: 'failed', targetGeneration: 2, reason: 'gate deadline passed: unit failed (NW_SYSTEMD)' } : { phase: 'healthy', targetGeneration: 2 });
    } else if (x.wave === mid) {
      const i = k++;
      if (i < 10) Object.assign(x, { phase: 'gating', targetGeneration: 2, gateStartedAt: now, deadline });
      else if (i < 15) Object.assign(x, { phase: 'pushing', targetGeneration: 2, deadline });
      else if (i < 20) Object.assign(x, { hold: { code: 'domain-busy', domain: `node:${x.name}`, inFlight: ['worker-00000'], unhealthy: [], limit: 1 }, reason: 'its failure domain is busy' });
    }
  }
  return { ...s, wave: mid, failures: failed, version: 1 };
}

export async function measureRolloutRender(n: number, runs = 20): Promise<{ medianMs: number; maxMs: number; pageBytes: number; liveBytes: number; liveMedianMs: number; waves: number; worstLiveBytes: number }> {
  const now = '2026-12-07T10:00:00.000Z';
  const state = rolloutAtScale(n, now);
  const record: RolloutRecord = { id: state.id, state, createdAt: now, updatedAt: now };
  const view = await FleetView.fromStore({ listNodes: async () => [] });
  const app = await pagesApp(view, { store: { getRollout: async (id: string) => (id === state.id ? structuredClone(record) : null) }, now: () => new Date(now) });
  const times: number[] = [];
  const liveTimes: number[] = [];
  let pageBytes = 0;
  let liveBytes = 0;
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = await app.inject({ method: 'GET', url: `/ui/rollouts/${state.id}` });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.statusCode !== 200) throw new Error(`GET /ui/rollouts/${state.id} answered ${r.statusCode}`);
    pageBytes = Buffer.byteLength(r.body);
    // one live message: what the stream renders and sends (the model and the region, as SSE)
    const t1 = process.hrtime.bigint();
    const msg = sseText({ id: 'b-1', data: rolloutLive(rolloutModel(structuredClone(state), now, () => null)).text });
    const liveMs = Number(process.hrtime.bigint() - t1) / 1e6;
    liveBytes = Buffer.byteLength(msg);
    if (i >= 3) {
      times.push(ms);
      liveTimes.push(liveMs);
    }
  }
  await app.close();
  times.sort((a, b) => a - b);
  liveTimes.sort((a, b) => a - b);
  // the worst case for the live region: every node in flight at once (the rows and waits-for capped)
  const deadline = new Date(Date.parse(now) + 40_000).toISOString();
  const busy: RolloutState = { ...state, nodes: state.nodes.map((x) => ({ ...x, phase: 'gating', targetGeneration: 2, gateStartedAt: now, deadline, hold: undefined, reason: null })) };
  const worstLiveBytes = Buffer.byteLength(sseText({ id: 'b-1', data: rolloutLive(rolloutModel(busy, now, () => null)).text }));
  return { medianMs: times[Math.floor(times.length / 2)], maxMs: times[times.length - 1], pageBytes, liveBytes, liveMedianMs: liveTimes[Math.floor(liveTimes.length / 2)], waves: state.waveCount, worstLiveBytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 5000);
  const r = await measureFleetRender(n);
  process.stdout.write(`fleet page, ${n} nodes: median ${r.medianMs.toFixed(1)} ms, worst ${r.maxMs.toFixed(1)} ms of 20 server-side renders, ${(r.bytes / 1024).toFixed(0)} KiB\n`);
  const ro = await measureRolloutRender(n);
  process.stdout.write(`rollout page, ${n} nodes in ${ro.waves} waves: median ${ro.medianMs.toFixed(1)} ms, worst ${ro.maxMs.toFixed(1)} ms of 20 server-side renders, ${(ro.pageBytes / 1024).toFixed(1)} KiB; one live message ${(ro.liveBytes / 1024).toFixed(1)} KiB, rendered in ${ro.liveMedianMs.toFixed(1)} ms (median); with every node in flight ${(ro.worstLiveBytes / 1024).toFixed(1)} KiB\n`);
}
