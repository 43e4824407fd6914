// Coded errors → HTTP: the body is always {code, message}.
import type { FastifyInstance } from 'fastify';
import { httpStatusOf, isNwError } from '../../host/errors.js';

interface ValidationIssue { instancePath?: string; message?: string; params?: Record<string, unknown> }

/** `body/nodes: must be array` — the field named, and an unknown key by its name. */
function validationMessage(where: string, issues: ValidationIssue[], fallback: string): string {
  const v = issues[0];
  if (!v) return fallback;
  const extra = typeof v.params?.additionalProperty === 'string' ? ` (${JSON.stringify(v.params.additionalProperty)})` : '';
  return `${where}${v.instancePath ?? ''}: ${v.message ?? 'is invalid'}${extra}; see docs/controller.md for the API`;
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, _req, reply) => {
    if (isNwError(err)) {
      return reply.status(httpStatusOf(err.code)).send({ code: err.code, message: err.message });
    }
    const e = err as { validation?: ValidationIssue[]; validationContext?: string; message: string; statusCode?: number };
    if (e.validation) return reply.status(400).send({ code: 'NW_USAGE', message: validationMessage(e.validationContext ?? 'request', e.validation, e.message) });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'NW_USAGE', message: e.message });
    return reply.status(500).send({ code: 'NW_INTERNAL', message: e.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'NW_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));
}
