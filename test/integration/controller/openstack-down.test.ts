// A controller whose controller.yaml names a cloud that does not answer: it starts, rolls out and
// answers /readyz as always; only the compute-node routes fail, with a coded 502, each request
// trying the cloud again. A cloud name clouds.yaml does not have is still a start-up error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

let dir: string;
let port: number;
let controller: ChildProcess | null = null;
let logs = '';
const ctl = (f = '') => path.join(dir, 'ctl', f);
const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), XDG_CACHE_HOME: path.join(dir, 'cache'), OS_CLOUD: '' });
const get = (p: string) =>
  new Promise<{ status: number; body: any }>((resolve, reject) => {
    const f = (n: string) => readFileSync(ctl(n));
    https
      .get(`https://127.0.0.1:${port}${p}`, { agent: false, ca: f('ca.crt'), cert: f('operator.crt'), key: f('operator.key') }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: t ? JSON.parse(t) : null }));
      })
      .on('error', reject);
  });

beforeAll(async () => {
  requireBuild();
  dir = tempDir('nw-openstack-down-');
  port = await freePort();
  const dead = await freePort(); // nothing listens there
  writeFileSync(path.join(dir, 'clouds.yaml'), `clouds:\n  dead:\n    auth_type: admin_token\n    auth: {endpoint: "http://127.0.0.1:${dead}/v2.1", token: "t"}\n    api_timeout: 2\n`, { mode: 0o600 });
  expect(spawnSync('node', [CONTROLLER_CLI, 'init', '--dir', ctl(), '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000, env: env() }).status).toBe(0);
  appendFileSync(ctl('controller.yaml'), 'openstack:\n  cloud: dead\n');
  controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', ctl('controller.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: env() });
  controller.stderr!.on('data', (c) => (logs += c));
  await waitUntil('controller ready', () => get('/readyz').then((r) => r.status === 200, () => false), 20_000, () => logs);
}, 60_000);
afterAll(async () => {
  if (controller?.pid && controller.exitCode === null) {
    process.kill(controller.pid, 'SIGTERM');
    await new Promise((r) => controller!.once('exit', r));
  }
});

it('an unreachable cloud does not stop the controller: compute-node requests get a coded 502, every time', async () => {
  expect(controller!.exitCode).toBeNull();
  for (let i = 0; i < 2; i++) {
    const r = await get('/v1/compute-nodes?host_ip=10.0.0.1');
    expect(r.status).toBe(502);
    expect(r.body.code).toMatch(/^NW_OPENSTACK/);
  }
  expect((await get('/v1/nodes')).status).toBe(200);
  expect(logs).toMatch(/OpenStack is not reachable/);
}, 60_000);

it('a cloud clouds.yaml does not name is refused at start with a coded error', () => {
  const cfg = readFileSync(ctl('controller.yaml'), 'utf8').replace('cloud: dead', 'cloud: nosuch');
  writeFileSync(ctl('other.yaml'), cfg, { mode: 0o600 });
  const r = spawnSync('node', [CONTROLLER_CLI, 'controller', 'run', '--config', ctl('other.yaml')], { encoding: 'utf8', timeout: 30_000, env: env() });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/NW_[A-Z_]+: .*nosuch/);
});
