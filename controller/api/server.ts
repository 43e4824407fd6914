// The controller's HTTP server (fastify). Today it serves the read-only compute-node routes.
import Fastify, { type FastifyInstance } from 'fastify';
import { NwError } from '../../host/errors.js';
import { registerErrorHandler } from './errors.js';
import { computeNodesRoutes, type ComputeNodesDeps } from './routes/compute-nodes.js';

export interface ControllerServerDeps {
  compute: ComputeNodesDeps;
}

export async function buildControllerServer(deps: ControllerServerDeps): Promise<FastifyInstance> {
  // no request logging: headers may carry tokens
  const app = Fastify({ logger: false });
  registerErrorHandler(app);
  await app.register(async (scope) => computeNodesRoutes(scope, deps.compute));
  return app;
}

export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec);
  if (!m) throw new NwError('NW_USAGE', `--listen must be HOST:PORT (e.g. 127.0.0.1:8080), got '${spec}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
