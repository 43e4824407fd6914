// The controller daemon (`controller run`) with controller.yaml naming the lab cloud: its TLS API
// answers the compute-node routes from the real Nova, to operators only.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { cliEnv, cliBin, type CliEnv } from './cli.js';

const lab = inject('novaLab');
const [, hostB] = Object.keys(lab.computes).sort();
const ipB = lab.computes[hostB];

describe('controller daemon: compute-node routes when controller.yaml names a cloud', () => {
  let e: CliEnv;
  let daemon: ResultPromise;
  let port: number;
  let logs = '';
  const ctl = () => path.join(e.dir, 'ctl');
  const get = (p: string, withCert: boolean) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const f = (n: string) => readFileSync(path.join(ctl(), n));
      https
        .get(`https://127.0.0.1:${port}${p}`, { agent: false, ca: f('ca.crt'), ...(withCert ? { cert: f('operator.crt'), key: f('operator.key') } : {}) }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) }));
        })
        .on('error', reject);
    });

  beforeAll(async () => {
    e = cliEnv(lab);
    port = await freePort();
    const init = spawnSync(cliBin, ['init', '--dir', ctl(), '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', env: e.env, timeout: 60_000 });
    expect(init.status).toBe(0);
    appendFileSync(path.join(ctl(), 'controller.yaml'), 'openstack:\n  cloud: lab\n');
    daemon = execa(cliBin, ['controller', 'run', '--config', path.join(ctl(), 'controller.yaml')], { env: e.env, reject: false, buffer: false });
    daemon.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const t0 = Date.now();
    for (;;) {
      const ok = await get('/readyz', false).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() - t0 > 60_000 || daemon.exitCode !== null) throw new Error(`controller did not get ready: ${logs}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    if (daemon?.pid) {
      process.kill(daemon.pid, 'SIGTERM'); // exactly the process we started
      expect((await daemon).exitCode).toBe(0);
    }
  });

  it('GET /v1/compute-nodes?host_ip= answers from Nova with an operator certificate, 401 without', async () => {
    const r = await get(`/v1/compute-nodes?host_ip=${ipB}`, true);
    expect(r.status).toBe(200);
    expect(r.body.compute_nodes).toEqual([expect.objectContaining({ host_ip: ipB, service_host: hostB })]);
    const servers = await get(`/v1/compute-nodes/${ipB}/servers`, true);
    expect(servers.status).toBe(200);
    expect(servers.body).toMatchObject({ hypervisor: expect.objectContaining({ host_ip: ipB }) });
    const anon = await get(`/v1/compute-nodes?host_ip=${ipB}`, false);
    expect(anon.status).toBe(401);
    expect(anon.body.code).toBe('NW_AUTH');
  });
});
