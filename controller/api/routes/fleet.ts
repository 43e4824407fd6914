// Enrollment and inventory:
//   POST   /v1/join                 (open: the join token authenticates) sign the agent's CSR
//   POST   /v1/renew                {csr} (an enrolled agent, its pinned certificate) → {node, cert, notAfter}
//   POST   /v1/join-tokens          {group, labels?, ttlSec?} → {token, caCertHash, expiresAt}
//   GET    /v1/nodes[?group=]       inventory with health
//   GET    /v1/nodes/:name          one node with its last status
//   DELETE /v1/nodes/:name
//   PUT    /v1/nodes/:name/labels   {labels} (replaces; value null removes a key)
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { NwError } from '../../../host/errors.js';
import { certSha256, enroll } from '../../fleet/enroll.js';
import { renew } from '../../fleet/renew.js';
import { newJoinToken, parseLabels } from '../../fleet/join-token.js';
import { failureDomainOf, type FailureDomainSource } from '../../rollout/domains.js';
import type { NodeRecord } from '../../store/store.js';
import { actorOf, agentCallerOf, callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const TokenRequest = Type.Object(
  {
    group: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128 }),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    ttlSec: Type.Optional(Type.Number({ minimum: 1, maximum: 30 * 86_400 })),
  },
  { additionalProperties: false },
);

function check<T>(schema: Parameters<typeof Value.Check>[0], body: unknown, what: string): T {
  if (Value.Check(schema, body)) return body as T;
  const e = Value.Errors(schema, body).First();
  throw new NwError('NW_USAGE', `${what}: ${e?.path || '/'}: ${e?.message}`);
}

const NodeParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) });
const NodesQuery = Type.Object({ group: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { additionalProperties: false });

/** Whole days left of the node's pinned certificate (negative once expired); null when unknown. */
export const certDaysLeft = (n: NodeRecord, now: Date): number | null =>
  n.certNotAfter ? Math.floor((Date.parse(n.certNotAfter) - now.getTime()) / 86_400_000) : null;

/** The node as the API shows it: `state` is its health (the contract's name for it), its failure domain under `source`. */
export const nodeView = (n: NodeRecord, now = new Date(), source: FailureDomainSource = 'none') => ({
  ...n, state: n.health, certNotAfter: n.certNotAfter ?? null, certDaysLeft: certDaysLeft(n, now),
  hypervisor: n.hypervisor ?? null, hypervisorRule: n.hypervisorRule ?? null, ...failureDomainOf(n, source),
});

export async function fleetRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const operator = (req: Parameters<typeof callerOf>[0]) => callerOf(req, ctx.operatorRoles);
  const mustFind = async (name: string) => {
    const n = await ctx.store.getNode(name);
    if (!n) throw new NwError('NW_NOT_FOUND', `no enrolled node ${name}: see \`nodewright nodes ls\``);
    return n;
  };

  app.post('/v1/join', async (req) => {
    const r = await enroll(ctx.enroll, req.body, req.raw.socket.remoteAddress, ctx.now());
    ctx.poller?.soon(r.node);
    ctx.onEnrolled?.(r.node);
    return r;
  });

  app.post('/v1/renew', async (req) => {
    const { node, peer } = await agentCallerOf(req, ctx.store);
    const renewed = await renew(ctx.enroll, node, peer, req.body, ctx.now());
    ctx.poller?.repin(node.name, certSha256(renewed.cert));
    return renewed;
  });

  app.post('/v1/join-tokens', { schema: { body: TokenRequest } }, async (req) => {
    const who = operator(req);
    const body = check<{ group: string; labels?: Record<string, string>; ttlSec?: number }>(TokenRequest, req.body, 'join-token request');
    const labels = parseLabels(Object.entries(body.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','));
    const now = ctx.now();
    const { token, record } = newJoinToken({ group: body.group, labels, ttlMs: (body.ttlSec ?? 3600) * 1000, now });
    await ctx.store.addJoinToken(record);
    await ctx.store.appendEvent({ at: now.toISOString(), actor: actorOf(who), kind: 'join-token.created', subject: record.id, message: `join token ${record.id} for group ${body.group}, expires ${record.expiresAt}` });
    return { token, caCertHash: ctx.caCertHash, expiresAt: record.expiresAt, group: body.group, labels };
  });

  app.get('/v1/nodes', { schema: { querystring: NodesQuery } }, async (req) => {
    operator(req);
    const q = req.query as { group?: string };
    return { nodes: (await ctx.store.listNodes(q.group ? { group: q.group } : undefined)).map((n) => nodeView(n, ctx.now(), ctx.failureDomain)) };
  });

  app.get('/v1/nodes/:name', { schema: { params: NodeParams } }, async (req) => {
    operator(req);
    const n = await mustFind((req.params as { name: string }).name);
    return { ...nodeView(n, ctx.now(), ctx.failureDomain), status: ctx.poller?.latest(n.name)?.status ?? null, desired: (await ctx.store.lastDesired(n.name))?.generation ?? null };
  });

  app.delete('/v1/nodes/:name', { schema: { params: NodeParams } }, async (req) => {
    const who = operator(req);
    const n = await mustFind((req.params as { name: string }).name);
    await ctx.store.removeNode(n.name);
    await ctx.store.appendEvent({ at: ctx.now().toISOString(), actor: actorOf(who), kind: 'node.removed', subject: n.name, message: `node ${n.name} removed from the inventory` });
    return { removed: n.name };
  });

  app.put('/v1/nodes/:name/labels', { schema: { params: NodeParams } }, async (req) => {
    const who = operator(req);
    const n = await mustFind((req.params as { name: string }).name);
    const body = check<{ labels: Record<string, string | null> }>(
      Type.Object({ labels: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])) }, { additionalProperties: false }),
      req.body,
      'labels request',
    );
    const next: Record<string, string> = { ...n.labels };
    for (const [k, v] of Object.entries(body.labels)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    parseLabels(Object.entries(next).map(([k, v]) => `${k}=${v}`).join(','));
    await ctx.store.setLabels(n.name, next);
    await ctx.store.appendEvent({ at: ctx.now().toISOString(), actor: actorOf(who), kind: 'node.labels', subject: n.name, message: `labels of ${n.name}: ${JSON.stringify(next)}` });
    return nodeView(await mustFind(n.name), ctx.now(), ctx.failureDomain);
  });
}
