// Failure domains from live Nova (issue 21): the packaged controller with controller.yaml
// `openstack: {cloud: lab}` maps every enrolled node to its hypervisor by itself. Four honest
// simulated agents (bench/sim-honest.ts) are enrolled through the real join; their status facts
// carry instanceUuid = the id of one lab server (vm-a1, vm-a2 on cmp-a; vm-b1, vm-b2 on cmp-b). Two
// join without it, one joins with a stale id (the latest facts must win), one with the right one.
// `nodes ls --json` shows each worker's hypervisor found by `instance-uuid`; then vm-a1 is
// live-migrated to cmp-b through Nova's API (`os-migrateLive`, what `openstack server migrate
// --live-migration --host cmp-b` sends; the FakeDriver computes complete it) and back, and each
// move is noticed: a `node.failure-domain` event, `nodes ls`, /metrics. A rollout with
// `--steps 2` over the four (the controller's default source is `hypervisor` with a cloud) never has
// two workers of one hypervisor in progress, judged by the agents' own acceptance times.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import type { HonestAgent } from '../../../bench/sim-honest.js';
import { enrollSimAgents, eventually, startLabController, type LabController } from './fleet.js';

const lab = inject('novaLab');

interface NodeJson {
  name: string;
  failureDomain: string | null;
  failureDomainSource: string | null;
}

const nova = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(`${lab.endpoint}${p}`, {
    method,
    headers: { 'X-Auth-Token': lab.adminToken, 'OpenStack-API-Version': 'compute 2.79', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};

/** server name → id and compute host, and compute host → hypervisor hostname, from Nova itself */
const ids: Record<string, string> = {};
const hostOf: Record<string, string> = {};
const hypervisorOf: Record<string, string> = {};

const workers = [
  { name: 'w-a1', server: 'vm-a1', join: 'none' },
  { name: 'w-a2', server: 'vm-a2', join: 'right' },
  { name: 'w-b1', server: 'vm-b1', join: 'stale' },
  { name: 'w-b2', server: 'vm-b2', join: 'none' },
] as const;

let c: LabController;
let agents: Map<string, HonestAgent>;

const domains = async () => Object.fromEntries(((await c.nwJson('nodes', 'ls')) as NodeJson[]).map((n) => [n.name, [n.failureDomain, n.failureDomainSource]]));

/** Live-migrate a server to `host` and wait until Nova has it ACTIVE there. */
async function liveMigrate(server: string, host: string): Promise<void> {
  const r = await nova('POST', `/servers/${ids[server]}/action`, { 'os-migrateLive': { host, block_migration: 'auto' } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const migrations = async () => JSON.stringify((await nova('GET', `/os-migrations?instance_uuid=${ids[server]}`)).body);
  const s = await eventually(
    `${server} live-migrated to ${host}`,
    async () => (await nova('GET', `/servers/${ids[server]}`)).body.server,
    (x) => x.status === 'ERROR' || (!x['OS-EXT-STS:task_state'] && x.status === 'ACTIVE' && x['OS-EXT-SRV-ATTR:host'] === host),
    180_000,
    () => `(see the lab's nova logs) ${lab.logs}`,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\nmigrations: ${await migrations()}`);
  });
  expect(s.status, `${JSON.stringify(s.fault ?? {})} migrations: ${await migrations()}`).toBe('ACTIVE');
}

beforeAll(async () => {
  for (const s of (await nova('GET', '/servers/detail?all_tenants=1')).body.servers) {
    ids[s.name] = s.id;
    hostOf[s.name] = s['OS-EXT-SRV-ATTR:host'];
  }
  for (const h of (await nova('GET', '/os-hypervisors/detail')).body.hypervisors) hypervisorOf[h.service.host] = h.hypervisor_hostname;
  expect(workers.map((w) => hostOf[w.server])).toEqual(['cmp-a', 'cmp-a', 'cmp-b', 'cmp-b']);
  c = await startLabController(lab, '  mapIntervalSec: 5\n');
  agents = await enrollSimAgents(
    c,
    workers.map((w) => ({
      name: w.name,
      joinFacts: w.join === 'right' ? { instanceUuid: ids[w.server] } : w.join === 'stale' ? { instanceUuid: ids['vm-a1'] } : {},
      statusFacts: { instanceUuid: ids[w.server] },
    })),
  );
}, 180_000);

afterAll(async () => {
  // the lab is shared by the other Nova e2e files: vm-a1 goes back to where up.sh put it
  if (ids['vm-a1'] && (await nova('GET', `/servers/${ids['vm-a1']}`)).body.server['OS-EXT-SRV-ATTR:host'] !== 'cmp-a') await liveMigrate('vm-a1', 'cmp-a');
  for (const a of agents?.values() ?? []) await a.close();
  if (c) expect(await c.stop()).toBe(0);
}, 400_000);

describe('the controller maps every enrolled node to its hypervisor from live Nova', () => {
  it('nodes ls shows each worker\'s hypervisor, found by instance-uuid from its latest facts', async () => {
    const want = Object.fromEntries(workers.map((w) => [w.name, [hypervisorOf[hostOf[w.server]], 'instance-uuid']]));
    await eventually('every node mapped by instance-uuid', domains, (d) => workers.every((w) => JSON.stringify(d[w.name]) === JSON.stringify(want[w.name])), 60_000, c.logs);
    const table = (await c.nw('nodes', 'ls')).stdout;
    expect(table.split('\n')[0]).toMatch(/^NAME\s+GROUP\s+STATE\s+GEN\s+DOMAIN\s/);
    for (const w of workers) expect(table).toMatch(new RegExp(`^${w.name}\\s.*\\s${hypervisorOf[hostOf[w.server]]}\\s`, 'm'));
    const show = (await c.nw('nodes', 'show', 'w-b1')).stdout;
    expect(show).toContain(`failure domain ${hypervisorOf['cmp-b']} (instance-uuid)`);
    // w-b1 joined with a stale id (vm-a1's): mapped by it at enrolment or not, its status's id won
    const events = (await c.api('GET', '/v1/events?limit=10000')).events as Array<{ kind: string; subject: string; message: string }>;
    const b1 = events.filter((e) => e.kind === 'node.failure-domain' && e.subject === 'w-b1').map((e) => e.message);
    expect(b1.at(-1)).toMatch(new RegExp(`^w-b1 (mapped to hypervisor|moved from ${hypervisorOf['cmp-a']} to) ${hypervisorOf['cmp-b']} \\(instance-uuid ${ids['vm-b1']}\\)$`));
  }, 120_000);

  it('/metrics carries each node\'s failure domain and no unmapped node', async () => {
    const text = (await eventually('the fleet view to list the mapping', () => c.api('GET', '/metrics') as Promise<string>, (t) => t.includes('nodewright_nodes_unmapped 0'), 10_000)) as string;
    for (const w of workers) {
      expect(text).toContain(`nodewright_node_failure_domain{node="${w.name}",group="workers",failure_domain="${hypervisorOf[hostOf[w.server]]}",source="instance-uuid"} 1`);
    }
    expect(text).toMatch(/^nodewright_hypervisor_map_refreshes_total\{outcome="ok"\} [1-9]/m);
  });

  it('rollout start --steps 2 (the controller\'s default source: hypervisor) never has two workers of one hypervisor in progress, by the agents\' acceptance times', async () => {
    const acceptedAt = new Map<string, number>();
    for (const [name, a] of agents) {
      const accept = a.accept.bind(a);
      a.accept = (text: string) => {
        const r = accept(text);
        if (r.status === 202) acceptedAt.set(name, Date.now());
        return r;
      };
    }
    const file = path.join(c.dir, 'desired-domains.yaml');
    writeFileSync(file, stringify(rolloutDesired('domains')));
    const started = await c.nwJson('rollout', 'start', '--group', 'workers', '--desired', file, '--steps', '2', '--max-unavailable', '2', '--min-healthy', '1s', '--gate-timeout', '60s');
    const status = await eventually(`rollout ${started.id} completed`, () => c.nwJson('rollout', 'status', started.id), (s) => s.state === 'completed' || s.state === 'paused' || s.state === 'halted', 120_000, c.logs);
    expect(status).toMatchObject({ state: 'completed', failureDomainSource: 'hypervisor', unmapped: 0, waveCount: 2 });
    const domainOf = Object.fromEntries(workers.map((w) => [w.name, hypervisorOf[hostOf[w.server]]]));
    for (const n of status.nodes) expect(n).toMatchObject({ name: n.name, failureDomain: domainOf[n.name], phase: 'healthy' });
    for (const wave of [0, 1]) expect(new Set(status.nodes.filter((n: { wave: number }) => n.wave === wave).map((n: { failureDomain: string }) => n.failureDomain)).size).toBe(2);
    // the agents' side: each accepted once, and the second worker of a hypervisor only after the first passed its gate
    expect([...acceptedAt.keys()].sort()).toEqual(workers.map((w) => w.name).sort());
    const events = ((await c.api('GET', '/v1/events?limit=10000')).events as Array<{ at: string; kind: string; subject: string; data?: { rollout?: string } }>)
      .filter((e) => e.data?.rollout === started.id && e.kind === 'rollout.node.healthy');
    const healthyAt = new Map(events.map((e) => [e.subject, Date.parse(e.at)]));
    for (const hv of new Set(Object.values(domainOf))) {
      const [first, second] = workers.map((w) => w.name).filter((n) => domainOf[n] === hv).sort((x, y) => acceptedAt.get(x)! - acceptedAt.get(y)!);
      expect(acceptedAt.get(second)!, `${second} accepted before ${first} (same hypervisor ${hv}) passed its gate`).toBeGreaterThanOrEqual(healthyAt.get(first)!);
    }
  }, 180_000);

  it('a live migration is noticed: an event and nodes ls, and again when it moves back', async () => {
    await liveMigrate('vm-a1', 'cmp-b');
    await eventually('w-a1 on cmp-b', domains, (d) => d['w-a1'][0] === hypervisorOf['cmp-b'], 60_000, c.logs);
    const moved = async () => ((await c.api('GET', '/v1/events?limit=10000')).events as Array<{ kind: string; subject: string; message: string; data?: any }>).filter((e) => e.kind === 'node.failure-domain' && e.subject === 'w-a1');
    expect((await moved()).at(-1)).toMatchObject({
      message: `w-a1 moved from ${hypervisorOf['cmp-a']} to ${hypervisorOf['cmp-b']} (instance-uuid ${ids['vm-a1']})`,
      data: { from: hypervisorOf['cmp-a'], to: hypervisorOf['cmp-b'], rule: 'instance-uuid', server: ids['vm-a1'] },
    });
    expect((await domains())['w-a2'][0]).toBe(hypervisorOf['cmp-a']);
    await liveMigrate('vm-a1', 'cmp-a');
    await eventually('w-a1 back on cmp-a', domains, (d) => d['w-a1'][0] === hypervisorOf['cmp-a'], 60_000, c.logs);
    expect((await moved()).map((e) => e.message).slice(-2)).toEqual([
      `w-a1 moved from ${hypervisorOf['cmp-a']} to ${hypervisorOf['cmp-b']} (instance-uuid ${ids['vm-a1']})`,
      `w-a1 moved from ${hypervisorOf['cmp-b']} to ${hypervisorOf['cmp-a']} (instance-uuid ${ids['vm-a1']})`,
    ]);
  }, 480_000);
});
