// The dashboard's fleet page for N nodes, rendered server-side through the real routes (fastify
// inject, helmet and all) from an in-memory fleet view of N nodes on N/50 hypervisors, a tenth of
// them not healthy: no store row is read per node. Prints the median and worst of 20 renders.
//   node dist/bench/ui-render.js [N=5000]
import Fastify from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiContext } from '../controller/api/context.js';
import { FleetView } from '../controller/fleet/view.js';
import type { NodeRecord } from '../controller/store/store.js';
import { Changes } from '../controller/ui/changes.js';
import { uiRoutes } from '../controller/ui/routes.js';

export async function measureFleetRender(n: number, runs = 20): Promise<{ medianMs: number; maxMs: number; bytes: number }> {
  const states = ['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'degraded'] as const;
  const nodes: NodeRecord[] = Array.from({ length: n }, (_, i) => ({
    name: `worker-${String(i).padStart(5, '0')}`, group: 'workers', labels: { zone: `z${i % 3}` }, url: 'https://10.0.0.1:9443', certSha256: 'x',
    facts: { hostname: `worker-${i}`, addresses: [] }, enrolledAt: '2026-12-01T00:00:00Z', hypervisor: i % 97 === 0 ? null : `hv-${String(Math.floor(i / 50)).padStart(3, '0')}`, hypervisorRule: 'instance-uuid',
    health: states[i % 10], reason: states[i % 10] === 'healthy' ? null : 'unit failed (NW_SYSTEMD)', healthSince: '2026-12-01T00:00:00Z', lastSeenAt: '2026-12-01T00:00:00Z', generation: 3, converged: true, ready: true,
  }));
  const view = await FleetView.fromStore({ listNodes: async () => nodes });
  const app = Fastify({ logger: false });
  const ctx = { store: {}, now: () => new Date(), operatorRoles: ['operator'] } as unknown as ApiContext;
  const session = { actor: 'operator:bench', readOnly: false, csrf: 'c'.repeat(64), expiresAt: '2099-01-01T00:00:00Z' };
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await uiRoutes({
    view, latest: () => null, executor: { command: async () => { throw new Error('unused'); } }, changes: new Changes(), queryEvents: async () => [],
    auth: { sessionOf: async () => session, checkAction: () => {} }, staticDir: path.join(dist, 'controller/ui/static/'),
  })(app, ctx);
  await app.ready();
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 5000);
  const r = await measureFleetRender(n);
  process.stdout.write(`fleet page, ${n} nodes: median ${r.medianMs.toFixed(1)} ms, worst ${r.maxMs.toFixed(1)} ms of 20 server-side renders, ${(r.bytes / 1024).toFixed(0)} KiB\n`);
}
