// The real CLI against the real Nova lab: "which VMs run on the physical host with IP X?"
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cliEnv, nodewright, serversByHost, type CliEnv } from './cli.js';

const lab = inject('novaLab');
const [hostA, hostB] = Object.keys(lab.computes).sort(); // cmp-a, cmp-b
const ipB = lab.computes[hostB];
const failHint = `(lab logs: ${lab.logs})`;

describe('nodewright CLI against real Nova', () => {
  let e: CliEnv;
  let truth: Record<string, string[]>;
  beforeAll(async () => {
    e = cliEnv(lab);
    truth = await serversByHost(lab);
  });

  it('the lab has two computes with different host_ip and servers on both', () => {
    expect(lab.computes[hostA]).not.toBe(ipB);
    expect(truth[hostA]?.length, failHint).toBeGreaterThan(0);
    expect(truth[hostB]?.length, failHint).toBeGreaterThan(0);
  });

  it('hypervisors ls shows both Host IPs (table and --json)', async () => {
    const t = await nodewright(e, ['hypervisors', 'ls', '--os-cloud', 'lab']);
    expect(t.code, t.stderr + failHint).toBe(0);
    expect(t.stdout).toMatch(/Host IP/);
    for (const ip of Object.values(lab.computes)) expect(t.stdout).toContain(ip);
    const j = await nodewright(e, ['hypervisors', 'ls', '--os-cloud', 'lab', '--json']);
    const list = JSON.parse(j.stdout).hypervisors as Array<{ hypervisor_hostname: string; host_ip: string; service_host: string }>;
    expect(Object.fromEntries(list.map((h) => [h.service_host, h.host_ip]))).toEqual(lab.computes);
  });

  it(`hosts show <host_ip of compute B> lists exactly compute B's servers, in the documented JSON shape`, async () => {
    const r = await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'lab', '--json']);
    expect(r.code, r.stderr + failHint).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(Object.keys(v)).toEqual(['hypervisor', 'servers']);
    expect(Object.keys(v.hypervisor)).toEqual(['id', 'hypervisor_hostname', 'host_ip', 'service_host', 'state', 'status']);
    expect(v.hypervisor).toMatchObject({ host_ip: ipB, service_host: hostB, hypervisor_hostname: hostB, state: 'up', status: 'enabled' });
    for (const s of v.servers) expect(Object.keys(s)).toEqual(['id', 'name', 'status', 'addresses', 'project_id', 'flavor']);
    expect(v.servers.map((s: { name: string }) => s.name).sort()).toEqual(truth[hostB]);
    // across projects: the lab put servers of both admin and demo on cmp-b
    expect(new Set(v.servers.map((s: { project_id: string }) => s.project_id))).toEqual(new Set(['admin', 'demo']));
    expect(v.servers.every((s: { status: string; flavor: string }) => s.status === 'ACTIVE' && s.flavor === 'm1.fake')).toBe(true);
  });

  it('the hostname path gives the same answer as the IP path', async () => {
    const byIp = JSON.parse((await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'lab', '--json'])).stdout);
    const r = await nodewright(e, ['hosts', 'show', hostB, '--os-cloud', 'lab', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(byIp);
  });

  it('the table output names the hypervisor and its servers', async () => {
    const r = await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'lab']);
    expect(r.stdout).toContain(`Hypervisor ${hostB}  host_ip=${ipB}`);
    for (const n of truth[hostB]) expect(r.stdout).toContain(n);
    for (const n of truth[hostA]) expect(r.stdout).not.toContain(n);
  });

  it('a warm index answers an IP lookup with 1 API call; a cold one with 2 (+ version document)', async () => {
    const fresh = cliEnv(lab);
    const cold = await nodewright(fresh, ['hosts', 'show', ipB, '--os-cloud', 'lab'], { NODEWRIGHT_TRACE_API_CALLS: '1' });
    expect(cold.stderr).toMatch(/openstack api calls: 3$/m);
    const warm = await nodewright(fresh, ['hosts', 'show', ipB, '--os-cloud', 'lab'], { NODEWRIGHT_TRACE_API_CALLS: '1' });
    expect(warm.stderr).toMatch(/openstack api calls: 1$/m);
    const byName = await nodewright(fresh, ['hosts', 'show', hostB, '--os-cloud', 'lab'], { NODEWRIGHT_TRACE_API_CALLS: '1' });
    expect(byName.stderr).toMatch(/openstack api calls: 2$/m);
  });

  it('the OpenStack lookups start from the package\'s snapshot; its other commands keep compiled code in $XDG_CACHE_HOME/nodewright/compile (0700)', async () => {
    const fresh = cliEnv(lab);
    const compile = path.join(fresh.env.XDG_CACHE_HOME, 'nodewright', 'compile');
    const show = await nodewright(fresh, ['hosts', 'show', ipB, '--os-cloud', 'lab']);
    expect(show.code, show.stderr + failHint).toBe(0);
    expect(show.stdout).toContain(`Hypervisor ${hostB}  host_ip=${ipB}`);
    expect(existsSync(compile), 'hosts show ran from the bundle, not from its snapshot').toBe(false);
    // `serve` stays on the bundle (fastify is not in the snapshot)
    const help = await nodewright(fresh, ['serve', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(statSync(compile).mode & 0o777).toBe(0o700);
    expect(readdirSync(compile, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length).toBeGreaterThan(0);
    expect(await nodewright(fresh, ['serve', '--help'])).toEqual(help);
  });

  it('an unknown IP gives NW_NOT_FOUND (exit 2)', async () => {
    const r = await nodewright(e, ['hosts', 'show', '192.0.2.77', '--os-cloud', 'lab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_NOT_FOUND: no hypervisor has host_ip 192.0.2.77/);
  });

  it('an unknown or ambiguous hostname gives NW_NOT_FOUND / NW_AMBIGUOUS (2.53 pattern is a substring match)', async () => {
    const none = await nodewright(e, ['hosts', 'show', 'nosuch-host', '--os-cloud', 'lab']);
    expect(none.stderr).toMatch(/^NW_NOT_FOUND: /);
    const common = hostA.slice(0, 3); // "cmp" matches both computes
    const amb = await nodewright(e, ['hosts', 'show', common, '--os-cloud', 'lab']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toMatch(/^NW_AMBIGUOUS: 'cmp' matches 2 hypervisors/);
  });

  it('a non-admin token gives NW_OPENSTACK_FORBIDDEN', async () => {
    const r = await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'demo', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_FORBIDDEN: .*403: Policy doesn't allow os_compute_api:os-hypervisors:list-detail.*admin/);
    expect(r.stderr).not.toContain(lab.nonAdminToken);
  });

  it('missing credentials give NW_OPENSTACK_AUTH', async () => {
    const r = await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'nope']);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_AUTH: cloud 'nope' is not defined/);
  });

  it('hosts map: an address no server has is reported per IP and coded', async () => {
    const r = await nodewright(e, ['hosts', 'map', '192.0.2.10', '--os-cloud', 'lab', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).workers).toEqual([
      expect.objectContaining({ node: '192.0.2.10', rule: null, hypervisor: null, error: expect.objectContaining({ code: 'NW_NOT_FOUND' }) }),
    ]);
    expect(JSON.parse(r.stdout).workers[0].tried.map((t: { rule: string }) => t.rule)).toEqual(['uuid', 'ip', 'name']);
    expect(r.stderr).toMatch(/^NW_NOT_FOUND: 1 of 1 worker\(s\) could not be mapped: 192.0.2.10/);
  });
});
