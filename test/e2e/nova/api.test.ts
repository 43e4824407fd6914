// The controller HTTP API (nodewright serve) on loopback, free port, against the real Nova lab.
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cliEnv, cliBin, nodewright, type CliEnv } from './cli.js';

const lab = inject('novaLab');
const [hostA, hostB] = Object.keys(lab.computes).sort();
const ipB = lab.computes[hostB];

describe('controller API: /v1/compute-nodes', () => {
  let e: CliEnv;
  let server: ResultPromise;
  let base = '';
  const get = async (p: string) => {
    const r = await fetch(base + p);
    return { status: r.status, calls: Number(r.headers.get('nodewright-openstack-api-calls')), body: (await r.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    e = cliEnv(lab);
    server = execa(cliBin, ['serve', '--listen', '127.0.0.1:0', '--os-cloud', 'lab'], { env: e.env, reject: false, buffer: false });
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`serve did not report its address: ${out}`)), 60_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      void server.then((r) => reject(new Error(`serve exited ${r.exitCode}: ${out}`)));
    });
  });

  afterAll(async () => {
    if (server?.pid) {
      process.kill(server.pid, 'SIGTERM'); // exactly the process we started
      const r = await server;
      expect(r.exitCode).toBe(0);
    }
  });

  it('GET /v1/compute-nodes?host_ip= returns the hypervisor with that host_ip', async () => {
    const r = await get(`/v1/compute-nodes?host_ip=${ipB}`);
    expect(r.status).toBe(200);
    expect(r.body.compute_nodes).toEqual([expect.objectContaining({ host_ip: ipB, service_host: hostB })]);
    const all = await get('/v1/compute-nodes');
    expect((all.body.compute_nodes as Array<{ host_ip: string }>).map((h) => h.host_ip).sort()).toEqual(Object.values(lab.computes).sort());
  });

  it('GET /v1/compute-nodes/{ip}/servers answers exactly what `hosts show --json` prints, for IP and hostname', async () => {
    const cli = JSON.parse((await nodewright(e, ['hosts', 'show', ipB, '--os-cloud', 'lab', '--json'])).stdout);
    const byIp = await get(`/v1/compute-nodes/${ipB}/servers`);
    expect(byIp.status).toBe(200);
    expect(byIp.body).toEqual(cli);
    const byName = await get(`/v1/compute-nodes/${hostB}/servers`);
    expect(byName.body).toEqual(cli);
    expect((byName.body.servers as unknown[]).length).toBeGreaterThan(0);
  });

  it('a warm index answers an IP lookup with at most 2 Nova calls (here: 1)', async () => {
    await get(`/v1/compute-nodes/${ipB}/servers`);
    const r = await get(`/v1/compute-nodes/${lab.computes[hostA]}/servers`);
    expect(r.calls).toBeLessThanOrEqual(2);
    expect(r.calls).toBe(1);
  });

  it('errors are coded: unknown IP 404 NW_NOT_FOUND, ambiguous 409 NW_AMBIGUOUS, bad query 400', async () => {
    const nf = await get('/v1/compute-nodes/192.0.2.77/servers');
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ code: 'NW_NOT_FOUND', message: expect.stringContaining('192.0.2.77') });
    const amb = await get('/v1/compute-nodes/cmp/servers');
    expect(amb).toMatchObject({ status: 409, body: { code: 'NW_AMBIGUOUS' } });
    const bad = await get('/v1/compute-nodes?host_ip=not-an-ip');
    expect(bad).toMatchObject({ status: 400, body: { code: 'NW_USAGE' } });
    const route = await get('/v1/nope');
    expect(route).toMatchObject({ status: 404, body: { code: 'NW_NOT_FOUND' } });
  });
});
