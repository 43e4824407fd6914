// The controller's compute-node routes over a fake Nova (fastify inject, no sockets).
import { describe, expect, it } from 'vitest';
import { buildControllerServer, parseListen } from '../../../controller/api/server.js';
import { connectCompute } from '../../../openstack/connect.js';
import { adminTokenConfig, fakeFetch, fakeNova } from './fake-cloud.js';

async function app(token = 'admin:admin') {
  const f = fakeFetch(fakeNova());
  const cfg = adminTokenConfig();
  cfg.auth.token = token;
  const c = await connectCompute(cfg, { fetch: f.fetch });
  return buildControllerServer({ compute: { nodes: c.nodes, session: c.session } });
}

describe('GET /v1/compute-nodes routes', () => {
  it('lists by host_ip and shows a host with its servers; counts Nova calls per request', async () => {
    const a = await app();
    const list = await a.inject('/v1/compute-nodes?host_ip=127.0.0.11');
    expect(list.statusCode).toBe(200);
    expect(list.json().compute_nodes).toEqual([expect.objectContaining({ hypervisor_hostname: 'cmp-a', host_ip: '127.0.0.11' })]);
    expect(list.headers['nodewright-openstack-api-calls']).toBe('1');
    const show = await a.inject('/v1/compute-nodes/127.0.0.11/servers');
    expect(show.json().servers.map((s: { name: string }) => s.name)).toEqual(['vm-a2', 'vm-a1']);
    expect(show.headers['nodewright-openstack-api-calls']).toBe('1'); // warm index: servers only
  });

  it('maps coded errors to HTTP statuses', async () => {
    const a = await app();
    expect((await a.inject('/v1/compute-nodes/10.0.0.99/servers')).statusCode).toBe(404);
    expect((await a.inject('/v1/compute-nodes/cmp/servers')).json()).toMatchObject({ code: 'NW_AMBIGUOUS' });
    expect((await a.inject('/v1/compute-nodes?host_ip=x')).statusCode).toBe(400);
    const demo = await app('demo:demo');
    const r = await demo.inject('/v1/compute-nodes/127.0.0.11/servers');
    expect(r.statusCode).toBe(502);
    expect(r.json()).toMatchObject({ code: 'NW_OPENSTACK_FORBIDDEN' });
  });

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(() => parseListen('8080')).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
  });
});
