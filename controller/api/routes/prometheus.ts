// GET /v1/prometheus/targets: Prometheus HTTP service discovery of the agents (operator, metrics).
// Prometheus authenticates with its client certificate of the `metrics` role
// (http_sd_configs.tls_config); docs/monitoring.md has the scrape job.
import type { FastifyInstance } from 'fastify';
import { scrapeTargets } from '../../fleet/scrape-targets.js';
import { callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

export async function prometheusRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/v1/prometheus/targets', async (req, reply) => {
    callerOf(req, [...ctx.operatorRoles, 'metrics']);
    const nodes = await ctx.store.listNodes();
    const kubeletVersionOf = (name: string) => ctx.poller?.latest(name)?.status?.kubelet.version ?? null;
    return reply.type('application/json; charset=utf-8').send(scrapeTargets(nodes, kubeletVersionOf, ctx.failureDomain ?? 'none'));
  });
}
