import { describe, expect, it } from 'vitest';
import { HypervisorIndex } from '../../../openstack/hypervisor-index.js';
import { NovaClient } from '../../../openstack/nova.js';
import { ComputeSession } from '../../../openstack/session.js';
import { adminTokenConfig, fakeFetch } from './fake-cloud.js';

const hv = (i: number) => ({ id: `id-${i}`, hypervisor_hostname: `hv${i}`, host_ip: `10.0.${i >> 8}.${i & 255}`, state: 'up', status: 'enabled', service: { host: `hv${i}` } });

describe('paging and the host_ip index', () => {
  it('follows hypervisors_links rel=next (limit/marker, 2.33+) across pages', async () => {
    const all = Array.from({ length: 2500 }, (_, i) => hv(i));
    const f = fakeFetch((c) => {
      if (c.url.pathname === '/v2.1/') return { status: 200, body: { version: { version: '2.93', min_version: '2.1' } } };
      const limit = Number(c.url.searchParams.get('limit'));
      const marker = c.url.searchParams.get('marker');
      const start = marker ? all.findIndex((h) => h.id === marker) + 1 : 0;
      const page = all.slice(start, start + limit);
      const links = start + limit < all.length ? [{ rel: 'next', href: `http://elsewhere/v2.1/os-hypervisors/detail?limit=${limit}&marker=${page.at(-1)!.id}` }] : [];
      return { status: 200, body: { hypervisors: page, hypervisors_links: links } };
    });
    const nova = new NovaClient(await ComputeSession.open(adminTokenConfig(), { fetch: f.fetch }));
    const list = await nova.listHypervisorsDetail();
    expect(list).toHaveLength(2500);
    expect(new Set(list.map((h) => h.id)).size).toBe(2500);
    expect(f.calls.filter((c) => c.url.pathname.endsWith('/detail')).map((c) => c.url.host)).toEqual(['nova.test', 'nova.test', 'nova.test']);
  });

  it('below 2.33 it asks once without limit', async () => {
    const f = fakeFetch((c) => (c.url.pathname === '/v2.1/' ? { status: 200, body: { version: { version: '2.30', min_version: '2.1' } } } : { status: 200, body: { hypervisors: [hv(1)] } }));
    const nova = new NovaClient(await ComputeSession.open(adminTokenConfig(), { fetch: f.fetch }));
    await nova.listHypervisorsDetail();
    expect(f.calls.at(-1)!.url.searchParams.has('limit')).toBe(false);
  });

  it('index: warm hits cost nothing, misses refresh once, concurrent refreshes are shared, TTL expires', async () => {
    let loads = 0;
    let t = 0;
    const idx = new HypervisorIndex({ load: async () => (loads++, [hv(1), hv(2)].map((h) => ({ ...h, service_host: h.service.host }))), ttlMs: 1000, now: () => t });
    await Promise.all([idx.byHostIp('10.0.0.1'), idx.byHostIp('10.0.0.2')]);
    expect(loads).toBe(1);
    expect(await idx.byHostIp('10.0.0.2')).toHaveLength(1);
    expect(loads).toBe(1);
    expect(await idx.byHostIp('10.9.9.9')).toHaveLength(0);
    expect(loads).toBe(2);
    t = 5000;
    expect(idx.isWarm()).toBe(false);
    await idx.byHostIp('10.0.0.1');
    expect(loads).toBe(3);
  });
});
