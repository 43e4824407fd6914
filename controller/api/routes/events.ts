// The audit log: GET /v1/events?after=ID&limit=N (oldest first). With follow=1 the answer stays
// open and streams new events as NDJSON lines.
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

export async function eventRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/v1/events', async (req, reply) => {
    callerOf(req, ctx.operatorRoles);
    const q = req.query as { after?: string; limit?: string; follow?: string };
    let after = Number(q.after ?? 0) || 0;
    const limit = Math.min(Math.max(Number(q.limit ?? 1000) || 1000, 1), 10_000);
    if (q.follow !== '1') return { events: ctx.store.listEvents({ afterId: after, limit }) };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const send = () => {
      for (const e of ctx.store.listEvents({ afterId: after, limit })) {
        res.write(JSON.stringify(e) + '\n');
        after = e.id;
      }
    };
    send();
    const timer = setInterval(send, 500);
    res.on('close', () => clearInterval(timer));
  });
}
