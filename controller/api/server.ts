// The controller's HTTP server (fastify): fleet routes (enrollment, inventory, events, health,
// metrics) over TLS with client certificates, and the read-only compute-node routes when an
// OpenStack connection is configured.
import Fastify, { type FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../../host/errors.js';
import { confineMetricsRole, pinnedAgentNameOf } from './auth.js';
import type { ApiContext } from './context.js';
import { registerErrorHandler } from './errors.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { TokenBuckets } from './rate-limit.js';
import { computeNodesRoutes, type ComputeNodesDeps } from './routes/compute-nodes.js';
import { eventRoutes } from './routes/events.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { prometheusRoutes } from './routes/prometheus.js';
import { uiSessionRoutes } from './routes/ui-sessions.js';
import { UI_ACTION_ROUTES } from '../ui/forward.js';
import { loginRoutes, SIGN_IN_ROUTES } from '../ui/login-routes.js';

export interface ControllerServerDeps {
  compute?: ComputeNodesDeps;
  fleet?: ApiContext;
  /** PEM server cert/key and the fleet CA clients are checked against. */
  tls?: { cert: string; key: string; ca: string };
  /** Registered by other rooms (rollouts, artifacts) with the same context. */
  extraRoutes?: ((app: FastifyInstance, ctx: ApiContext) => Promise<void>)[];
  /** Timeouts, connection cap, join and renewal rates (controller.yaml `server:`). */
  limits?: Partial<ServerLimits>;
}

/**
 * Route schemas (TypeBox) checked as written: unknown keys are refused, never dropped, and a body
 * is never coerced (`{"nodes":"abc"}` is a 400, not ["abc"]); query strings and params are
 * converted to the numbers and booleans their schema names first.
 */
function compileRouteSchema({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const checker = TypeCompiler.Compile(schema as TSchema);
  return (data: unknown) => {
    const value = httpPart === 'body' ? data : Value.Convert(schema as TSchema, data);
    if (checker.Check(value)) return { value };
    const e = checker.Errors(value).First();
    return { error: Object.assign(new Error(e?.message ?? 'invalid'), { validation: [{ instancePath: e?.path ?? '', message: e?.message }] }) };
  };
}

export async function buildControllerServer(deps: ControllerServerDeps): Promise<FastifyInstance> {
  // no request logging: headers and join bodies carry tokens
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const nodeLimits = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // how often Node checks the two above (default 30 s): a tenth of the shorter, at least 100 ms
    connectionsCheckingInterval: Math.max(100, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10),
  };
  const app = Fastify({
    logger: false,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    bodyLimit: 1024 * 1024,
    ...(deps.tls
      ? { https: { cert: deps.tls.cert, key: deps.tls.key, ca: deps.tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const, handshakeTimeout: limits.handshakeTimeoutMs, ...nodeLimits } }
      : { http: nodeLimits }),
  });
  app.server.headersTimeout = limits.headersTimeoutMs;
  app.server.maxConnections = limits.maxConnections;
  registerErrorHandler(app);
  app.setValidatorCompiler(compileRouteSchema);
  const leadership = deps.fleet?.leadership;
  if (leadership) {
    // HA: one leader writes; a follower sends every write there (the CLI and agents follow a 307),
    // except dashboard sign-in, which every member serves (sessions are not fenced), and the
    // dashboard's actions, which a follower forwards to the leader itself (ui/forward.ts)
    app.addHook('onRequest', async (req, reply) => {
      if (req.method === 'GET' || req.method === 'HEAD' || leadership.leading()) return;
      const route = req.routeOptions.url ?? '';
      if (SIGN_IN_ROUTES.has(route) || UI_ACTION_ROUTES.has(route)) return;
      const leader = await leadership.leaderUrl();
      if (!leader) throw new NwError('NW_NOT_LEADER', 'no controller leads the fleet right now (an election is under way); try again in a few seconds');
      return reply.code(307).header('location', new URL(req.url, leader).toString()).send();
    });
  }
  const joins = new TokenBuckets({ burst: limits.joinBurst, refillMs: limits.joinRefillMs });
  const renewals = new TokenBuckets({ burst: limits.renewBurst, refillMs: limits.renewRefillMs });
  app.addHook('onRequest', async (req) => confineMetricsRole(req));
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST') return;
    const url = req.routeOptions.url;
    const limited = url === '/v1/join'
      ? { buckets: joins, key: req.raw.socket.remoteAddress ?? 'unknown', what: 'join attempts from' }
      : url === '/v1/renew'
        ? { buckets: renewals, key: await pinnedAgentNameOf(req, deps.fleet?.store), what: 'certificate renewals of node' }
        : null;
    if (!limited || limited.key === null || limited.buckets.take(limited.key, Date.now())) return;
    const s = Math.ceil(limited.buckets.retryAfterMs(limited.key) / 1000);
    reply.header('retry-after', String(s));
    throw new NwError('NW_RATE_LIMIT', `too many ${limited.what} ${limited.key}; wait ${s} s and try again`);
  });
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
      await prometheusRoutes(scope, ctx);
      await uiSessionRoutes(scope, ctx);
      await loginRoutes({ loginPerMinute: limits.loginPerMinute })(scope, ctx);
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
