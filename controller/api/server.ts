// The controller's HTTP server (fastify): fleet routes (enrollment, inventory, events, health,
// metrics) over TLS with client certificates, and the read-only compute-node routes when an
// OpenStack connection is configured.
import Fastify, { type FastifyInstance } from 'fastify';
import { NwError } from '../../host/errors.js';
import type { ApiContext } from './context.js';
import { registerErrorHandler } from './errors.js';
import { computeNodesRoutes, type ComputeNodesDeps } from './routes/compute-nodes.js';
import { eventRoutes } from './routes/events.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';

export interface ControllerServerDeps {
  compute?: ComputeNodesDeps;
  fleet?: ApiContext;
  /** PEM server cert/key and the fleet CA clients are checked against. */
  tls?: { cert: string; key: string; ca: string };
  /** Registered by other rooms (rollouts, artifacts) with the same context. */
  extraRoutes?: ((app: FastifyInstance, ctx: ApiContext) => Promise<void>)[];
}

// Longer than any client's poll or watch interval: an idle keep-alive connection stays up.
const KEEP_ALIVE_MS = 75_000;

export async function buildControllerServer(deps: ControllerServerDeps): Promise<FastifyInstance> {
  // no request logging: headers and join bodies carry tokens
  const app = Fastify({
    logger: false,
    keepAliveTimeout: KEEP_ALIVE_MS,
    bodyLimit: 1024 * 1024,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key, ca: deps.tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const } } : {}),
  });
  registerErrorHandler(app);
  if (deps.compute) {
    const compute = deps.compute;
    await app.register(async (scope) => computeNodesRoutes(scope, compute));
  }
  if (deps.fleet) {
    const ctx = deps.fleet;
    await app.register(async (scope) => {
      await healthRoutes(scope, ctx);
      await fleetRoutes(scope, ctx);
      await eventRoutes(scope, ctx);
      for (const r of deps.extraRoutes ?? []) await r(scope, ctx);
    });
  }
  return app;
}

export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec);
  if (!m) throw new NwError('NW_USAGE', `--listen must be HOST:PORT (e.g. 127.0.0.1:8080), got '${spec}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
