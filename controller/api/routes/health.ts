// GET /healthz (alive), /readyz (started and the store answers), /v1/controller/status (the fleet's
// controllers: leader, epoch, members), /metrics (operator, controller and metrics roles).
import type { FastifyInstance } from 'fastify';
import { NwError } from '../../../host/errors.js';
import { callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    let store = true;
    try {
      await ctx.store.listEvents({ limit: 1 });
    } catch {
      store = false;
    }
    const ready = ctx.ready() && store;
    return reply.code(ready ? 200 : 503).send({ ready, store });
  });
  app.get('/v1/controller/status', async (req) => {
    callerOf(req, [...ctx.operatorRoles, 'controller']);
    if (!ctx.controllerStatus) throw new NwError('NW_NOT_FOUND', 'this server has no controller status');
    return ctx.controllerStatus();
  });
  app.get('/metrics', async (req, reply) => {
    callerOf(req, [...ctx.operatorRoles, 'controller', 'metrics']);
    return reply.type('text/plain; version=0.0.4').send(ctx.metrics.render());
  });
}
