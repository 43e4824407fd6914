// Nodes → hypervisors: the pure placement (latest facts win, changes only, the event's words) and the
// mapper's side of it against a real store and a counted stand-in for Nova's two listings: one
// listing per refresh, concurrent triggers coalesced, Nova down keeps the mapping, a deadline.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { changedPlacements, failureDomainEvent, placeNodes } from '../../../controller/fleet/hypervisor-map.js';
import { HypervisorMapper, type NovaListings, type RefreshOutcome } from '../../../controller/fleet/hypervisors.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import type { NodeFacts, NodeRecord } from '../../../controller/store/store.js';
import { NwError } from '../../../host/errors.js';
import type { RawServer } from '../../../openstack/nova.js';
import type { HypervisorView } from '../../../openstack/types.js';
import { tempDir } from '../../tmp.js';

const T0 = '2026-12-01T10:00:00.000Z';
const U = (n: number) => `${String(n).repeat(8)}-0000-4000-8000-000000000000`;
const hv = (name: string): HypervisorView => ({ id: name, hypervisor_hostname: `${name}.example`, host_ip: null, service_host: name, state: 'up', status: 'enabled' });
const srv = (id: string, name: string, host: string, addrs: string[] = []): RawServer => ({
  id, name, status: 'ACTIVE', addresses: addrs.length ? { net: addrs.map((addr) => ({ addr })) } : {}, 'OS-EXT-SRV-ATTR:host': host,
});
const node = (name: string, facts: Partial<NodeFacts> = {}, over: Partial<NodeRecord> = {}): NodeRecord => ({
  name, group: 'workers', labels: {}, url: 'https://127.0.0.1:9443', certSha256: 'c'.repeat(64), certNotAfter: null,
  facts: { hostname: name, addresses: [], ...facts }, hypervisor: null, hypervisorRule: null, enrolledAt: T0, health: 'unknown',
  reason: null, healthSince: T0, lastSeenAt: null, generation: null, converged: false, ready: false, ...over,
});

describe('placing nodes (pure)', () => {
  const servers = [srv(U(1), 'vm-1', 'cmp-a', ['10.0.0.1']), srv(U(2), 'vm-2', 'cmp-b', ['10.0.0.2']), srv(U(3), 'w3', 'cmp-b')];
  const hvs = [hv('cmp-a'), hv('cmp-b')];

  it('each rule names the hypervisor; the latest facts win over the join facts; no match is unmapped with the reason', async () => {
    const nodes = [node('w1', { instanceUuid: U(2) }), node('w2', { addresses: ['10.0.0.2'] }), node('w3'), node('w4')];
    const latest = (n: string) => (n === 'w1' ? { instanceUuid: U(1) } : null);
    const p = placeNodes(nodes, latest, servers, hvs);
    expect(p.map((x) => [x.name, x.to])).toEqual([
      ['w1', { hypervisor: 'cmp-a.example', rule: 'instance-uuid' }],
      ['w2', { hypervisor: 'cmp-b.example', rule: 'fixed-ip' }],
      ['w3', { hypervisor: 'cmp-b.example', rule: 'name' }],
      ['w4', null],
    ]);
    expect(p[3].why).toMatch(/^no server matches worker w4/);
    expect(p[0].server).toEqual({ id: U(1), name: 'vm-1' });
  });

  it('a server on a host no hypervisor lists still names its compute host; without the host attribute it is unmapped', async () => {
    const [a] = placeNodes([node('w1', { instanceUuid: U(9) })], () => null, [srv(U(9), 'x', 'cmp-z')], hvs);
    expect(a.to).toEqual({ hypervisor: 'cmp-z', rule: 'instance-uuid' });
    const [b] = placeNodes([node('w1', { instanceUuid: U(9) })], () => null, [{ ...srv(U(9), 'x', 'cmp-z'), 'OS-EXT-SRV-ATTR:host': null }], hvs);
    expect(b.to).toBeNull();
  });

  it('only differences are changes, and the event says what happened', async () => {
    const held = [node('w1', {}, { hypervisor: 'cmp-a', hypervisorRule: 'instance-uuid' }), node('w2'), node('w3', {}, { hypervisor: 'cmp-a', hypervisorRule: 'name' })];
    const placed = [
      { name: 'w1', to: { hypervisor: 'cmp-b', rule: 'instance-uuid' as const }, server: { id: U(1), name: 'vm-1' }, why: null },
      { name: 'w2', to: null, server: null, why: 'no server matches worker w2' },
      { name: 'w3', to: { hypervisor: 'cmp-a', rule: 'name' as const }, server: { id: U(3), name: 'w3' }, why: null },
      { name: 'gone', to: null, server: null, why: 'x' },
    ];
    const changed = changedPlacements(held, placed);
    expect(changed.map((c) => c.name)).toEqual(['w1']);
    const e = failureDomainEvent(changed[0], { hypervisor: 'cmp-a', rule: 'instance-uuid' }, T0);
    expect(e).toMatchObject({ kind: 'node.failure-domain', subject: 'w1', message: `w1 moved from cmp-a to cmp-b (instance-uuid ${U(1)})`, data: { from: 'cmp-a', to: 'cmp-b', rule: 'instance-uuid', server: U(1) } });
    expect(failureDomainEvent(placed[0], null, T0).message).toBe(`w1 mapped to hypervisor cmp-b (instance-uuid ${U(1)})`);
    expect(failureDomainEvent(placed[1], { hypervisor: 'cmp-a', rule: 'name' }, T0).message).toBe('w2 is no longer found in Nova (was on cmp-a): no server matches worker w2');
  });
});

/** Nova's two listings, counted; `gate` holds the answers until released. */
class CountedNova implements NovaListings {
  serverListings = 0;
  hypervisorListings = 0;
  down: Error | null = null;
  gate: Promise<void> | null = null;
  constructor(public servers: RawServer[], public hypervisors: HypervisorView[]) {}
  async listAllServers() {
    this.serverListings++;
    await this.gate;
    if (this.down) throw this.down;
    return this.servers;
  }
  async listHypervisorsDetail() {
    this.hypervisorListings++;
    await this.gate;
    if (this.down) throw this.down;
    return this.hypervisors;
  }
}

const stores: SqliteStore[] = [];
const mappers: HypervisorMapper[] = [];
afterEach(async () => {
  for (const m of mappers.splice(0)) m.stop();
  for (const s of stores.splice(0)) await s.close();
});

async function setup(over: { intervalMs?: number; deadlineMs?: number } = {}) {
  const store = openSqliteStore({ stateDir: tempDir('nw-hvmap-') });
  stores.push(store);
  await store.putNode(node('w1', { instanceUuid: U(1) }));
  await store.putNode(node('w2', { instanceUuid: U(2) }));
  const nova = new CountedNova([srv(U(1), 'vm-1', 'cmp-a'), srv(U(2), 'vm-2', 'cmp-b')], [hv('cmp-a'), hv('cmp-b')]);
  const outcomes: RefreshOutcome[] = [];
  const facts = new Map<string, Partial<NodeFacts>>();
  let connects = 0;
  const mapper = new HypervisorMapper({
    store,
    nova: async () => {
      connects++;
      return nova;
    },
    latestFacts: (n) => facts.get(n) ?? null,
    log: pino({ level: 'silent' }),
    intervalMs: over.intervalMs ?? 3_600_000,
    deadlineMs: over.deadlineMs,
    settleMs: 20,
    minGapMs: 0,
    onRefresh: (r) => outcomes.push(r),
  });
  mappers.push(mapper);
  return { store, nova, mapper, outcomes, facts, connects: () => connects };
}

const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('HypervisorMapper', () => {
  it('a refresh is one server listing and one hypervisor listing for the whole fleet, and writes only changes', async () => {
    const { store, nova, mapper } = await setup();
    for (let i = 3; i <= 50; i++) await store.putNode(node(`w${i}`));
    expect(await mapper.refresh()).toMatchObject({ ok: true, nodes: 50, mapped: 2, changed: 2, servers: 2 });
    expect([nova.serverListings, nova.hypervisorListings]).toEqual([1, 1]);
    expect(await store.getNode('w1')).toMatchObject({ hypervisor: 'cmp-a.example', hypervisorRule: 'instance-uuid' });
    expect((await store.listEvents()).map((e) => e.message)).toEqual([`w1 mapped to hypervisor cmp-a.example (instance-uuid ${U(1)})`, `w2 mapped to hypervisor cmp-b.example (instance-uuid ${U(2)})`]);
    expect(await mapper.refresh()).toMatchObject({ ok: true, changed: 0 });
    expect(await store.listEvents()).toHaveLength(2);
  });

  it('triggers while a refresh runs coalesce into one more; a burst of triggers is one refresh', async () => {
    const { nova, mapper, outcomes } = await setup();
    let release!: () => void;
    nova.gate = new Promise((r) => (release = r));
    const first = mapper.refresh();
    for (let i = 0; i < 20; i++) mapper.trigger('enrolled');
    expect(mapper.refresh()).toBe(first); // the one running
    release();
    await first;
    await until('the follow-up refresh', () => outcomes.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(outcomes).toHaveLength(2);
    expect(nova.serverListings).toBe(2);
    for (let i = 0; i < 20; i++) mapper.trigger('facts changed');
    await until('the burst refresh', () => outcomes.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(nova.serverListings).toBe(3);
  });

  it('a live-migrated server moves its node (one event); a facts change is picked up at the next refresh', async () => {
    const { store, nova, mapper, facts } = await setup();
    await mapper.refresh();
    nova.servers = [srv(U(1), 'vm-1', 'cmp-b'), srv(U(2), 'vm-2', 'cmp-b')];
    facts.set('w2', { instanceUuid: U(1) });
    expect(await mapper.refresh()).toMatchObject({ ok: true, changed: 1 });
    expect((await store.getNode('w1'))?.hypervisor).toBe('cmp-b.example');
    expect((await store.listEvents()).at(-1)).toMatchObject({ kind: 'node.failure-domain', subject: 'w1', message: `w1 moved from cmp-a.example to cmp-b.example (instance-uuid ${U(1)})` });
    facts.set('w2', { instanceUuid: 'ffffffff-0000-4000-8000-000000000000' });
    await mapper.refresh();
    expect(await store.getNode('w2')).toMatchObject({ hypervisor: null, hypervisorRule: null });
  });

  it('Nova down or slower than the deadline: coded failure, the previous mapping kept, the next refresh tries again', async () => {
    const { store, nova, mapper } = await setup({ deadlineMs: 100 });
    await mapper.refresh();
    nova.down = new NwError('NW_OPENSTACK', 'GET /servers/detail: connection refused');
    expect(await mapper.refresh()).toMatchObject({ ok: false, code: 'NW_OPENSTACK', message: expect.stringContaining('connection refused') });
    expect((await store.getNode('w1'))?.hypervisor).toBe('cmp-a.example');
    nova.down = null;
    nova.gate = new Promise(() => {}); // never answers
    const t0 = Date.now();
    expect(await mapper.refresh()).toMatchObject({ ok: false, code: 'NW_OPENSTACK', message: expect.stringContaining('within 100 ms') });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await store.getNode('w2'))?.hypervisor).toBe('cmp-b.example');
    nova.gate = null;
    nova.servers = [srv(U(1), 'vm-1', 'cmp-b'), srv(U(2), 'vm-2', 'cmp-b')];
    expect(await mapper.refresh()).toMatchObject({ ok: true, changed: 1 });
  });

  it('start refreshes at once and then every interval; stop ends it', async () => {
    const { nova, mapper, outcomes } = await setup({ intervalMs: 60 });
    mapper.start();
    await until('three refreshes', () => outcomes.length >= 3);
    mapper.stop();
    const n = nova.serverListings;
    await new Promise((r) => setTimeout(r, 200));
    expect(nova.serverListings).toBe(n);
  });
});
