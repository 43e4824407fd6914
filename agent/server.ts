// The agent's HTTP face. Reads are open on the configured address; every mutating route needs
// the bearer token (constant-time compare) and is size-limited and schema-checked before anything changes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { httpStatusOf, isNwError } from '../host/errors.js';
import type { Agent } from './agent.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  // Compare fixed-length digests so neither length nor content leaks through timing.
  return timingSafeEqual(digest(m ? m[1] : ''), digest(token)) && Boolean(m);
}

// Fastify requires ajv and fast-json-stringify when it is constructed, for route schemas. No route
// here has one (bundles are checked with TypeBox in Agent.accept), so they load only if a schema
// ever needs compiling: ~90 modules fewer before READY=1 (bench P1/P3).
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const onFirstSchema =
  (compiler: string) =>
  (...args: unknown[]) =>
    (fromFastify(compiler) as () => (...a: unknown[]) => unknown)()(...args);

export function buildServer(agent: Agent, token: string): FastifyInstance {
  const app = Fastify({
    // Request lines only at warn and above: the access log is noise on a worker.
    loggerInstance: agent.log.child({ component: 'http' }, { level: 'warn' }) as unknown as FastifyBaseLogger,
    bodyLimit: agent.config.limits.bodyBytes,
    schemaController: {
      compilersFactory: {
        buildValidator: onFirstSchema('@fastify/ajv-compiler') as never,
        buildSerializer: onFirstSchema('@fastify/fast-json-stringify-compiler') as never,
      },
    },
  });

  const refuse = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ code, message });

  const requireToken = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!tokenMatches(req.headers.authorization, token)) {
      agent.metrics.authFailures++;
      return refuse(reply, 401, 'NW_AUTH', 'missing or wrong bearer token: send Authorization: Bearer <token from the agent token file>');
    }
  };

  app.setErrorHandler((err, _req, reply) => {
    if (isNwError(err)) return refuse(reply, httpStatusOf(err.code), err.code, err.message);
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 413, 'NW_BUNDLE', `body larger than ${agent.config.limits.bodyBytes} bytes`);
    if (e.statusCode && e.statusCode < 500) return refuse(reply, e.statusCode, 'NW_BUNDLE', e.message);
    agent.log.error({ err }, 'request failed');
    return refuse(reply, 500, 'NW_INTERNAL', e.message);
  });
  app.setNotFoundHandler((req, reply) => refuse(reply, 404, 'NW_NOT_FOUND', `no route ${req.method} ${req.url}`));

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const s = agent.status();
    return reply.code(s.ready ? 200 : 503).send({ ready: s.ready, converged: s.converged, lastError: s.lastError });
  });
  app.get('/v1/status', async () => agent.status());
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(agent.metrics.render(agent.status())));

  const waitFor = (q: unknown) => (q as { wait?: string } | undefined)?.wait === '1' || (q as { wait?: string } | undefined)?.wait === 'true';

  app.post('/v1/desired', { onRequest: requireToken }, async (req, reply) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
      return refuse(reply, 400, 'NW_BUNDLE', 'send the signed bundle as a JSON object (Content-Type: application/json)');
    }
    const d = await agent.accept(req.body);
    const run = agent.reconcile('desired');
    if (waitFor(req.query)) {
      await run;
      return reply.code(200).send({ accepted: true, generation: d.generation, status: agent.status() });
    }
    run.catch(() => undefined);
    return reply.code(202).send({ accepted: true, generation: d.generation });
  });

  app.post('/v1/reconcile', { onRequest: requireToken }, async (req, reply) => {
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
