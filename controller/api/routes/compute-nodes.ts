// Read-only compute-node routes, answered from Nova:
//   GET /v1/compute-nodes?host_ip=…                 hypervisors (all, or those with this host_ip)
//   GET /v1/compute-nodes/{ipOrHostname}/servers    the hypervisor and the servers on it (= `hosts show --json`)
// Each reply carries `nodewright-openstack-api-calls`: the Nova calls it took (approximate under concurrency).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ComputeNodes } from '../../../openstack/compute-nodes.js';
import type { ComputeSession } from '../../../openstack/session.js';

export interface ComputeNodesDeps {
  nodes: ComputeNodes;
  session: ComputeSession;
}

const ListQuery = Type.Object({ host_ip: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
const HostParams = Type.Object({ ipOrHostname: Type.String({ minLength: 1 }) });

/** `deps` may be a connect function: the daemon connects on the first request, so an unreachable cloud never stops it. */
export async function computeNodesRoutes(app: FastifyInstance, deps: ComputeNodesDeps | (() => Promise<ComputeNodesDeps>)): Promise<void> {
  const counted = async <T>(reply: FastifyReply, fn: (d: ComputeNodesDeps) => Promise<T>): Promise<T> => {
    const d = typeof deps === 'function' ? await deps() : deps;
    const before = d.session.apiCalls;
    try {
      return await fn(d);
    } finally {
      reply.header('nodewright-openstack-api-calls', String(d.session.apiCalls - before));
    }
  };

  app.get<{ Querystring: { host_ip?: string } }>('/v1/compute-nodes', { schema: { querystring: ListQuery } }, async (req, reply) =>
    counted(reply, async (d) => ({
      compute_nodes: req.query.host_ip ? await d.nodes.findByHostIp(req.query.host_ip) : await d.nodes.index.all(),
    })),
  );

  app.get<{ Params: { ipOrHostname: string } }>('/v1/compute-nodes/:ipOrHostname/servers', { schema: { params: HostParams } }, async (req, reply) =>
    counted(reply, (d) => d.nodes.show(req.params.ipOrHostname)),
  );
}
