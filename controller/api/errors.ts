// Coded errors → HTTP: the body is always {code, message}.
import type { FastifyInstance } from 'fastify';
import { isNwError, type ErrorCode } from '../../host/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  NW_USAGE: 400,
  NW_NOT_FOUND: 404,
  NW_AMBIGUOUS: 409,
  // the controller's own OpenStack credentials or the cloud failed: a gateway problem
  NW_OPENSTACK_FORBIDDEN: 502,
  NW_OPENSTACK_AUTH: 502,
  NW_MICROVERSION: 502,
  NW_OPENSTACK: 502,
};

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, _req, reply) => {
    if (isNwError(err)) {
      return reply.status(STATUS[err.code] ?? 500).send({ code: err.code, message: err.message });
    }
    const e = err as { validation?: unknown; message: string; statusCode?: number };
    if (e.validation) return reply.status(400).send({ code: 'NW_USAGE', message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'NW_USAGE', message: e.message });
    return reply.status(500).send({ code: 'NW_INTERNAL', message: e.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'NW_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));
}
