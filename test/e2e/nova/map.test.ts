// hosts map, live: four real agent daemons in sandbox roots on loopback, each given the id of a real
// server of the Nova lab (vm-a1/vm-a2 on cmp-a, vm-b1 on cmp-b) through agent.yaml instanceUuid or a
// DMI product_uuid file under its root, and one known only by its name (vm-b2). `hosts map --agent …`
// reads their GET /v1/status facts and lands each on the right hypervisor, saying which rule matched;
// the wave planner fed with that real map never puts two workers of one hypervisor in a wave.
// (The fixed-IP rule is unit-tested: the lab's Neutron is a stub, its servers have no addresses.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { planWaves } from '../../../controller/rollout/plan.js';
import { mappingOf } from '../../../controller/fleet/hypervisor-map.js';
import { AGENT_CLI, sandbox, type Sandbox } from '../../integration/agent/fixture.js';
import { cliEnv, nodewright } from './cli.js';

const lab = inject('novaLab');
const TOKEN = `map-e2e-token-${process.pid}-0123456789abcdef`;

interface Worker {
  node: string;
  server: string;
  how: 'override' | 'dmi' | 'name';
  sb?: Sandbox;
  proc?: ChildProcess;
  log: string;
}
const workers: Worker[] = [
  { node: 'w-a1', server: 'vm-a1', how: 'override', log: '' },
  { node: 'w-a2', server: 'vm-a2', how: 'dmi', log: '' },
  { node: 'w-b1', server: 'vm-b1', how: 'override', log: '' },
  { node: 'vm-b2', server: 'vm-b2', how: 'name', log: '' },
];
const ids: Record<string, string> = {};
const url = (w: Worker) => `http://127.0.0.1:${w.sb!.port}`;

beforeAll(async () => {
  const r = await fetch(`${lab.endpoint}/servers?all_tenants=1`, { headers: { 'X-Auth-Token': lab.adminToken } });
  for (const s of ((await r.json()) as { servers: Array<{ id: string; name: string }> }).servers) ids[s.name] = s.id;
  for (const w of workers) {
    const yaml = `node: ${w.node}\n${w.how === 'override' ? `instanceUuid: ${ids[w.server]}\n` : ''}`;
    w.sb = await sandbox(yaml);
    writeFileSync(path.join(w.sb.dir, 'token'), TOKEN, { mode: 0o600 });
    if (w.how === 'dmi') {
      mkdirSync(w.sb.real('sys/class/dmi/id'), { recursive: true });
      writeFileSync(w.sb.real('sys/class/dmi/id/product_uuid'), `${ids[w.server].toUpperCase()}\n`); // as SMBIOS shows it
    }
    w.proc = spawn('node', [AGENT_CLI, 'run', '--config', w.sb.config], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    w.proc.stdout!.setEncoding('utf8').on('data', (d: string) => (w.log += d));
    w.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (w.log += d));
  }
  for (const w of workers) {
    const t0 = Date.now();
    while (!(await fetch(`${url(w)}/healthz`).then((x) => x.ok, () => false))) {
      if (w.proc!.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`agent ${w.node} did not come up:\n${w.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

afterAll(() => {
  for (const w of workers) {
    if (w.proc && w.proc.exitCode === null) w.proc.kill('SIGTERM');
    w.sb?.cleanup();
  }
});

describe('hosts map from live agents onto the real Nova lab', () => {
  it('each agent reports its facts; instanceUuid from DMI is lowercased, from agent.yaml as given', async () => {
    for (const w of workers) {
      const st = await (await fetch(`${url(w)}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      expect(st.agent.node).toBe(w.node);
      expect(st.facts).toMatchObject({ hostname: expect.any(String), addresses: expect.any(Array), runtime: 'native' });
      if (w.how === 'name') expect(st.facts.instanceUuid).toBeUndefined();
      else expect(st.facts.instanceUuid).toBe(ids[w.server]);
    }
  });

  it('maps every worker to its server and hypervisor, by uuid or by name, and the waves keep hypervisors apart', async () => {
    const e = cliEnv(lab);
    const tokenFile = path.join(e.dir, 'agent-token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    const r = await nodewright(e, ['hosts', 'map', '--agent', ...workers.map(url), '--token-file', tokenFile, '--os-cloud', 'lab', '--json']);
    expect(r.stderr, r.stderr).toBe('');
    expect(r.code).toBe(0);
    const placed = JSON.parse(r.stdout).workers as Array<{ node: string; rule: string; server: { id: string; name: string }; service_host: string; hypervisor: { hypervisor_hostname: string; host_ip: string }; tried: Array<{ rule: string; matched: boolean; reason: string }> }>;
    expect(placed.map((p) => p.node)).toEqual(workers.map((w) => w.node));
    for (const [i, w] of workers.entries()) {
      const p = placed[i];
      const host = lab.servers[w.server];
      expect(p).toMatchObject({ rule: w.how === 'name' ? 'name' : 'uuid', server: { id: ids[w.server], name: w.server }, service_host: host });
      expect(p.hypervisor.host_ip).toBe(lab.computes[host]);
      if (w.how === 'name') {
        expect(p.tried.map((t) => [t.rule, t.matched])).toEqual([['uuid', false], ['ip', false], ['name', true]]);
        expect(p.tried[0].reason).toContain('reports no instanceUuid');
      }
    }
    expect(process.argv.join(' ')).not.toContain(TOKEN);

    const plan = planWaves(placed.map((p) => ({ name: p.node, failureDomain: mappingOf(p)?.hypervisor ?? `node:${p.node}` })), ['100%']);
    expect(plan.waves).toHaveLength(2);
    for (const wave of plan.waves) {
      const domains = wave.nodes.map((n) => n.failureDomain);
      expect(new Set(domains).size).toBe(domains.length);
    }
    expect(plan.waves.flatMap((w) => w.nodes.map((n) => n.name)).sort()).toEqual(workers.map((w) => w.node).sort());
  });
});
