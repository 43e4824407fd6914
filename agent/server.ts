// The agent's HTTP face. With TLS (the production mode) every route but /healthz and /readyz needs a
// client certificate of the fleet CA with the controller or operator role (/metrics: also metrics); without TLS (loopback only,
// enforced by the config) mutations need the bearer token. Mutations wait for the recovery pass
// (503 NW_RECOVERING), and are size-limited and schema-checked before anything changes.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { httpStatusOf, isNwError, NwError } from '../host/errors.js';
import { requireRole, type Role } from '../pki/identity.js';
import type { Agent } from './agent.js';
import type { ServerAuth } from './auth.js';
import { worstCaseReconcileMs } from './startup.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  // Compare fixed-length digests so neither length nor content leaks through timing.
  return timingSafeEqual(digest(m ? m[1] : ''), digest(token)) && Boolean(m);
}

/** Roles that may read status and change the worker. */
export const CALLER_ROLES: Role[] = ['controller', 'operator'];
/** Roles that may read /metrics: the callers, and Prometheus (role metrics), which may read nothing else. */
export const METRICS_ROLES: Role[] = [...CALLER_ROLES, 'metrics'];

/** Above the controller's 10 s poll interval, so polls reuse the connection (and its TLS session). */
export const KEEP_ALIVE_MS = 75_000;
/** The whole request (headers and body; bundles are small) must arrive within this. */
export const REQUEST_TIMEOUT_MS = 30_000;

// Fastify loads ajv and fast-json-stringify when it is constructed, for route schemas (~90 modules,
// several MiB of heap). No route here has one (bundles are checked with TypeBox in Agent.accept), so
// the compilers are left out; a route that ever declares a schema fails at start-up, loudly.
const noSchemas = (what: string) => () => {
  throw new NwError('NW_INTERNAL', `agent routes declare no ${what} schemas (bundles are checked in Agent.accept); drop the schema or give the route its own compiler`);
};

/** A strong ETag of a status body: the poller sends it back in If-None-Match and gets 304 while nothing changed. */
export const statusEtag = (body: string): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

export interface ServerOptions {
  auth: ServerAuth;
  /** True until the recovery pass is done: mutations answer 503 NW_RECOVERING meanwhile. */
  recovering: () => boolean;
}

export function buildServer(agent: Agent, o: ServerOptions): FastifyInstance {
  const { auth } = o;
  const app = Fastify({
    // Request lines only at warn and above: the access log is noise on a worker.
    loggerInstance: agent.log.child({ component: 'http' }, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: agent.config.limits.bodyBytes,
    ...(auth.kind === 'tls'
      ? { https: { cert: auth.certPem, key: auth.keyPem, ca: auth.caPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const } }
      : {}),
    keepAliveTimeout: KEEP_ALIVE_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // A socket stays silent while ?wait=1 runs a whole reconcile; close it only after the worst case.
    connectionTimeout: worstCaseReconcileMs(agent.config.kubelet) + 60_000,
    schemaController: {
      compilersFactory: {
        buildValidator: noSchemas('validation') as never,
        buildSerializer: noSchemas('response') as never,
      },
    },
  }) as unknown as FastifyInstance;

  const refuse = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ code, message });
  const refuseWith = (reply: FastifyReply, e: NwError) => refuse(reply, httpStatusOf(e.code), e.code, e.message);

  /** TLS: a fleet-CA client certificate with one of `roles`. Reads and mutations alike. */
  const requireRoles = (roles: Role[]) => async (req: FastifyRequest, reply: FastifyReply) => {
    const socket = req.raw.socket as TLSSocket;
    try {
      requireRole(socket.getPeerCertificate(), socket.authorized, roles);
    } catch (e) {
      agent.metrics.authFailures++;
      if (isNwError(e)) return refuseWith(reply, e);
      throw e;
    }
  };
  const requireToken = async (req: FastifyRequest, reply: FastifyReply) => {
    if (auth.kind !== 'token' || !tokenMatches(req.headers.authorization, auth.token)) {
      agent.metrics.authFailures++;
      return refuse(reply, 401, 'NW_AUTH', 'missing or wrong bearer token: send Authorization: Bearer <token from the agent token file>');
    }
  };
  const notRecovering = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (o.recovering()) return refuse(reply, 503, 'NW_RECOVERING', 'the agent is finishing or rolling back a change the previous run left in flight: retry in a few seconds');
  };
  const requireCaller = requireRoles(CALLER_ROLES);
  const read = auth.kind === 'tls' ? { onRequest: requireCaller } : {};
  const readMetrics = auth.kind === 'tls' ? { onRequest: requireRoles(METRICS_ROLES) } : {};
  const mutate = { onRequest: auth.kind === 'tls' ? requireCaller : requireToken, preHandler: notRecovering };

  app.setErrorHandler((err, _req, reply) => {
    if (isNwError(err)) return refuseWith(reply, err);
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 413, 'NW_BUNDLE', `body larger than ${agent.config.limits.bodyBytes} bytes`);
    if (e.statusCode && e.statusCode < 500) return refuse(reply, e.statusCode, 'NW_BUNDLE', e.message);
    agent.log.error({ err }, 'request failed');
    return refuse(reply, 500, 'NW_INTERNAL', e.message);
  });
  app.setNotFoundHandler((req, reply) => refuse(reply, 404, 'NW_NOT_FOUND', `no route ${req.method} ${req.url}`));

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    if (o.recovering()) return reply.code(503).send({ ready: false, converged: false, code: 'NW_RECOVERING' });
    const s = agent.status();
    return reply.code(s.ready ? 200 : 503).send({ ready: s.ready, converged: s.converged, lastError: s.lastError });
  });
  app.get('/v1/status', read, async (req, reply) => {
    const body = JSON.stringify(agent.status());
    const etag = statusEtag(body);
    reply.header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });
  app.get('/metrics', readMetrics, async (_req, reply) => reply.type('text/plain; version=0.0.4').send(agent.metrics.render(agent.status())));

  const waitFor = (q: unknown) => (q as { wait?: string } | undefined)?.wait === '1' || (q as { wait?: string } | undefined)?.wait === 'true';

  app.post('/v1/desired', mutate, async (req, reply) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
      return refuse(reply, 400, 'NW_BUNDLE', 'send the signed bundle as a JSON object (Content-Type: application/json)');
    }
    const { desired: d, changed } = await agent.accept(req.body);
    // The same generation and content again: already held, nothing new to reconcile (no reconcile
    // storm); with wait, answer once a reconcile still running for it has finished.
    if (!changed) {
      if (!waitFor(req.query)) return reply.code(200).send({ accepted: true, generation: d.generation, changed });
      await agent.reconciler.idle();
      return reply.code(200).send({ accepted: true, generation: d.generation, changed, status: agent.status() });
    }
    const run = agent.reconcile('desired');
    if (waitFor(req.query)) {
      await run;
      return reply.code(200).send({ accepted: true, generation: d.generation, changed, status: agent.status() });
    }
    run.catch(() => undefined);
    return reply.code(202).send({ accepted: true, generation: d.generation, changed });
  });

  app.post('/v1/reconcile', mutate, async (req, reply) => {
    if (!agent.desired()) return refuse(reply, 409, 'NW_BUNDLE', 'no desired state yet: POST a signed bundle to /v1/desired first');
    const retry = (req.query as { retry?: string } | undefined)?.retry;
    if (retry !== undefined && retry !== 'artifact') return refuse(reply, 400, 'NW_USAGE', `retry=${retry} is not known: the only retry is retry=artifact`);
    if (retry === 'artifact') await agent.retryArtifact();
    const run = agent.reconcile('api');
    if (waitFor(req.query)) {
      await run;
      return reply.code(200).send(agent.status());
    }
    run.catch(() => undefined);
    return reply.code(202).send({ triggered: true });
  });

  return app;
}
