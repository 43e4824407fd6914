import { describe, expect, it } from 'vitest';
import { planWaves } from '../../../controller/rollout/plan.js';
import { mappingOf } from '../../../controller/fleet/hypervisor-map.js';
import type { RawServer } from '../../../openstack/nova.js';
import type { HypervisorView } from '../../../openstack/types.js';
import { placeWorkers } from '../../../openstack/worker-map.js';
import { workerFromStatus, workersFromIps } from '../../../openstack/worker-facts.js';

const hv = (name: string, ip: string): HypervisorView => ({ id: name, hypervisor_hostname: name, host_ip: ip, service_host: name, state: 'up', status: 'enabled' });
const HVS = [hv('cmp-a', '10.1.0.1'), hv('cmp-b', '10.1.0.2')];
const srv = (id: string, name: string, host: string, addrs: string[] = []): RawServer => ({
  id,
  name,
  status: 'ACTIVE',
  addresses: addrs.length ? { net: addrs.map((addr) => ({ addr })) } : {},
  'OS-EXT-SRV-ATTR:host': host,
});
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';
const SERVERS = [srv(U1, 'k8s-w1', 'cmp-a', ['10.0.0.11']), srv(U2, 'k8s-w2', 'cmp-b', ['10.0.0.12']), srv(U3, 'k8s-w2', 'cmp-a', ['10.0.0.12'])];

describe('worker → server → hypervisor (pure)', () => {
  it('uuid first: matches case-insensitively even when the name and IP would point elsewhere', () => {
    const [p] = placeWorkers([{ node: 'k8s-w2', addresses: ['10.0.0.11'], instanceUuid: U3.toUpperCase() }], SERVERS, HVS);
    expect(p).toMatchObject({ rule: 'uuid', server: { id: U3 }, service_host: 'cmp-a', hypervisor: { hypervisor_hostname: 'cmp-a', host_ip: '10.1.0.1' } });
    expect(p.tried).toEqual([expect.objectContaining({ rule: 'uuid', matched: true })]);
    expect(p.error).toBeUndefined();
  });

  it('ip second, saying why uuid did not match; an address two servers share is ambiguous, never guessed', () => {
    const [a, b] = placeWorkers(
      [
        { node: 'x', addresses: ['192.0.2.1', '10.0.0.11'] },
        { node: 'y', addresses: ['10.0.0.12'], instanceUuid: '44444444-4444-4444-8444-444444444444' },
      ],
      SERVERS,
      HVS,
    );
    expect(a).toMatchObject({ rule: 'ip', server: { id: U1 }, hypervisor: { hypervisor_hostname: 'cmp-a' } });
    expect(a.tried[0]).toMatchObject({ rule: 'uuid', matched: false, reason: expect.stringContaining('reports no instanceUuid') });
    expect(b.rule).toBeNull();
    expect(b.tried.map((t) => t.reason)).toEqual([
      expect.stringContaining('no server has id 44444444-'),
      expect.stringMatching(/^ambiguous: 2 servers have one of 10\.0\.0\.12/),
      expect.stringMatching(/^no server is named y$/),
    ]);
    expect(b.error).toMatchObject({ code: 'NW_NOT_FOUND', message: expect.stringContaining('no server matches worker y: uuid: no server has id') });
  });

  it('name last (node name, then hostname and its short form); a duplicate name is ambiguous', () => {
    const [a, b] = placeWorkers([{ node: 'w1', hostname: 'k8s-w1.example.org' }, { node: 'k8s-w2' }], SERVERS, HVS);
    expect(a).toMatchObject({ rule: 'name', server: { id: U1 }, tried: [{ rule: 'uuid' }, { rule: 'ip', reason: 'the worker reports no addresses' }, { rule: 'name', matched: true }] });
    expect(b.rule).toBeNull();
    expect(b.tried[2].reason).toMatch(/^ambiguous: 2 servers are named k8s-w2/);
  });

  it('a server without OS-EXT-SRV-ATTR:host (non-admin view) or on an unknown host is matched but coded', () => {
    const noHost = { ...srv(U1, 'k8s-w1', 'cmp-a'), 'OS-EXT-SRV-ATTR:host': undefined };
    expect(placeWorkers([{ node: 'w', instanceUuid: U1 }], [noHost], HVS)[0].error?.code).toBe('NW_OPENSTACK_FORBIDDEN');
    expect(placeWorkers([{ node: 'w', instanceUuid: U1 }], [srv(U1, 'w', 'cmp-z')], HVS)[0]).toMatchObject({ rule: 'uuid', hypervisor: null, error: { code: 'NW_NOT_FOUND' } });
  });

  it('feeds the wave planner: no wave holds two workers of one hypervisor', () => {
    const placed = placeWorkers(
      [{ node: 'a', instanceUuid: U1 }, { node: 'b', instanceUuid: U2 }, { node: 'c', instanceUuid: U3 }],
      SERVERS,
      HVS,
    );
    const plan = planWaves(placed.map((p) => ({ name: p.node, failureDomain: mappingOf(p)?.hypervisor ?? `node:${p.node}` })), ['100%']);
    expect(plan.waves.map((w) => w.nodes.map((n) => n.name).sort())).toEqual([['a', 'b'], ['c']]);
  });
});

describe('hosts map input', () => {
  it('reads an agent status (agent.node + facts) or a bare facts object, and refuses bad addresses', () => {
    expect(workerFromStatus({ agent: { node: 'w1' }, facts: { hostname: 'h1', addresses: ['10.0.0.1'], instanceUuid: U1 } }, 's')).toEqual({
      node: 'w1', hostname: 'h1', addresses: ['10.0.0.1'], instanceUuid: U1, source: 's',
    });
    expect(workerFromStatus({ hostname: 'h2' }, 'f[0]')).toMatchObject({ node: 'h2', addresses: [] });
    expect(() => workerFromStatus({ node: 'n', addresses: ['nope'] }, 'f[1]')).toThrow(/NW_USAGE|addresses must be a list of IP/);
    expect(() => workerFromStatus({}, 'f[2]')).toThrow(/no node name/);
    expect(() => workersFromIps(['10.0.0.1', 'x'])).toThrow(/'x' is not an IP address/);
  });
});
