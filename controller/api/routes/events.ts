// The audit log: GET /v1/events?after=ID&limit=N (oldest first). With follow=1 the answer stays
// open and streams new events as NDJSON lines; a closing server ends those streams first.
import { Type } from '@sinclair/typebox';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const EventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    follow: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])),
  },
  { additionalProperties: false },
);

export async function eventRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const followers = new Map<ServerResponse, NodeJS.Timeout>();
  app.addHook('preClose', async () => {
    for (const [res, timer] of followers) {
      clearInterval(timer);
      res.end();
    }
    followers.clear();
  });
  app.get('/v1/events', { schema: { querystring: EventsQuery } }, async (req, reply) => {
    callerOf(req, ctx.operatorRoles);
    const q = req.query as { after?: number; limit?: number; follow?: string };
    let after = q.after ?? 0;
    const limit = q.limit ?? 1000;
    if (q.follow !== '1') return { events: await ctx.store.listEvents({ afterId: after, limit }) };
    reply.hijack();
    const res = reply.raw;
    // a follower may wait long for the next event: the idle timeout is for connections that send nothing
    req.raw.socket.setTimeout(0);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    let sending = false;
    const send = async () => {
      if (sending) return; // the previous read is still running
      sending = true;
      try {
        for (const e of await ctx.store.listEvents({ afterId: after, limit })) {
          res.write(JSON.stringify(e) + '\n');
          after = e.id;
        }
      } catch {
        res.destroy(); // the store is gone (stopping): the client sees the stream end and may reconnect
      } finally {
        sending = false;
      }
    };
    void send();
    const timer = setInterval(() => void send(), 500);
    followers.set(res, timer);
    res.on('close', () => {
      clearInterval(timer);
      followers.delete(res);
    });
  });
}
