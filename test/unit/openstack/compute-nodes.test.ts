import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickByHostname } from '../../../openstack/compute-nodes.js';
import { connectCompute } from '../../../openstack/connect.js';
import { adminTokenConfig, fakeFetch, fakeNova } from './fake-cloud.js';
import { tempDir } from '../../tmp.js';

const connect = async (opts: { maxVersion?: string; token?: string; cacheDir?: string; now?: () => number } = {}) => {
  const f = fakeFetch(fakeNova({ maxVersion: opts.maxVersion }));
  const cfg = adminTokenConfig();
  if (opts.token) cfg.auth.token = opts.token;
  const c = await connectCompute(cfg, { fetch: f.fetch, cacheDir: opts.cacheDir, now: opts.now });
  return { ...c, calls: f.calls };
};

describe('ComputeNodes against recorded Nova responses', () => {
  it('hosts show <ip>: cold index = detail + servers by service.host; warm index = 1 call', async () => {
    const c = await connect();
    expect(c.session.microversion).toBe('2.93');
    const before = c.session.apiCalls;
    const v = await c.nodes.show('127.0.0.11');
    expect(c.session.apiCalls - before).toBe(2);
    expect(v.hypervisor).toEqual({ id: 'b229108d-6343-4e73-8c4e-b903bf8bfc0d', hypervisor_hostname: 'cmp-a', host_ip: '127.0.0.11', service_host: 'cmp-a', state: 'up', status: 'enabled' });
    expect(v.servers.map((s) => [s.name, s.project_id, s.flavor])).toEqual([['vm-a2', 'demo', 'm1.fake'], ['vm-a1', 'admin', 'm1.fake']]);
    expect(Object.keys(v.servers[0])).toEqual(['id', 'name', 'status', 'addresses', 'project_id', 'flavor']);
    const servers = c.calls.at(-1)!;
    expect(servers.url.pathname).toBe('/v2.1/servers/detail');
    expect(Object.fromEntries(servers.url.searchParams)).toMatchObject({ all_tenants: '1', host: 'cmp-a' });
    expect(servers.headers['openstack-api-version']).toBe('compute 2.93');

    const warm = c.session.apiCalls;
    await c.nodes.show('127.0.0.12');
    expect(c.session.apiCalls - warm).toBe(1);
  });

  it('an unknown IP refreshes the index once, then NW_NOT_FOUND', async () => {
    const c = await connect();
    await c.nodes.listHypervisors();
    const before = c.session.apiCalls;
    await expect(c.nodes.show('10.1.2.3')).rejects.toMatchObject({ code: 'NW_NOT_FOUND', message: expect.stringContaining('no hypervisor has host_ip 10.1.2.3') });
    expect(c.session.apiCalls - before).toBe(1);
  });

  it('a stale index (past its TTL) is refreshed', async () => {
    let t = 0;
    const c = await connect({ now: () => t });
    await c.nodes.show('127.0.0.11');
    t = 10 * 60_000;
    const before = c.session.apiCalls;
    await c.nodes.show('127.0.0.11');
    expect(c.session.apiCalls - before).toBe(2);
  });

  it('hosts show <hostname> uses 2.53 hypervisor_hostname_pattern without limit, exact match preferred', async () => {
    const c = await connect();
    const v = await c.nodes.show('cmp-b');
    expect(v.hypervisor.host_ip).toBe('127.0.0.12');
    const q = c.calls.find((x) => x.url.searchParams.has('hypervisor_hostname_pattern'))!;
    expect(q.url.searchParams.get('hypervisor_hostname_pattern')).toBe('cmp-b');
    expect(q.url.searchParams.has('limit')).toBe(false);
    await expect(c.nodes.show('cmp')).rejects.toMatchObject({ code: 'NW_AMBIGUOUS' });
    await expect(c.nodes.show('nosuch')).rejects.toMatchObject({ code: 'NW_NOT_FOUND' });
  });

  it('below 2.53 the pattern is filtered client-side from the detail list (the server would ignore it)', async () => {
    const c = await connect({ maxVersion: '2.40' });
    const v = await c.nodes.resolve('cmp-b');
    expect(v.hypervisor_hostname).toBe('cmp-b');
    expect(c.calls.some((x) => x.url.searchParams.has('hypervisor_hostname_pattern'))).toBe(false);
  });

  it('a non-admin token gives NW_OPENSTACK_FORBIDDEN', async () => {
    const c = await connect({ token: 'demo:demo' });
    await expect(c.nodes.show('127.0.0.12')).rejects.toMatchObject({ code: 'NW_OPENSTACK_FORBIDDEN', message: expect.stringContaining('admin') });
  });

  it('the on-disk cache keeps the index and version range between runs (warm lookup = 1 call), without the token', async () => {
    const dir = tempDir('nw-cache-');
    const first = await connect({ cacheDir: dir });
    await first.nodes.show('127.0.0.12');
    const second = await connect({ cacheDir: dir });
    await second.nodes.show('127.0.0.12');
    expect(second.session.apiCalls).toBe(1);
    const { readdirSync, readFileSync } = await import('node:fs');
    const text = readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('');
    expect(text).toContain('127.0.0.12');
    expect(text).not.toContain('admin:admin');
  });

  it('pickByHostname: exact beats substring; one substring hit is accepted', () => {
    const h = (n: string) => ({ id: n, hypervisor_hostname: n, host_ip: null, service_host: n, state: 'up', status: 'enabled' });
    expect(pickByHostname('cmp-a', [h('cmp-a'), h('cmp-a2')]).id).toBe('cmp-a');
    expect(pickByHostname('node7', [h('node7.example.org')]).id).toBe('node7.example.org');
    expect(() => pickByHostname('node', [h('node1'), h('node2')])).toThrow(expect.objectContaining({ code: 'NW_AMBIGUOUS' }));
  });
});
