// The controller daemon maps its nodes to hypervisors with bounded Nova calls: a real `controller
// run` (dist/) whose clouds.yaml points at a stand-in Nova on 127.0.0.1 (HTTP, the lab's recorded
// version document and hypervisors, 2,500 generated servers served in pages of the controller's
// `limit`) and twelve honest simulated agents enrolled through the real join, each reporting a
// server's id in its status facts. Every refresh is one complete paged server listing and one
// hypervisor listing, never a request per node; enrolments coalesce; a moved server and a changed
// instanceUuid are noticed; Nova failing keeps the mapping. (The real Nova: test/e2e/nova/domains.test.ts.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { requestJson } from '../../../host/http-json.js';
import { freePort } from '../../../lab/ports.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { fixture } from '../../unit/openstack/fake-cloud.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

const SERVERS = 2500;
const NODES = 12;
const uuid = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const servers = Array.from({ length: SERVERS }, (_, i) => ({ id: uuid(i), name: `vm-${i}`, status: 'ACTIVE', addresses: {}, 'OS-EXT-SRV-ATTR:host': i % 2 ? 'cmp-b' : 'cmp-a' }));

/** requests by path; `down` answers 503 to every listing */
const requests: Record<string, number> = {};
let down = false;
let nova: http.Server;

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const u = new URL(req.url!, 'http://x');
  requests[u.pathname] = (requests[u.pathname] ?? 0) + 1;
  const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (u.pathname === '/v2.1/') return send(200, fixture('v2.1-root.json'));
  if (down) return send(503, { computeFault: { code: 503, message: 'stand-in Nova is down' } });
  if (u.pathname === '/v2.1/os-hypervisors/detail') return send(200, fixture('hypervisors-detail.v2.53.json'));
  if (u.pathname === '/v2.1/servers/detail' && u.searchParams.get('all_tenants') === '1') {
    const limit = Number(u.searchParams.get('limit') ?? SERVERS);
    const marker = u.searchParams.get('marker');
    const from = marker ? servers.findIndex((s) => s.id === marker) + 1 : 0;
    const page = servers.slice(from, from + limit);
    const next = from + limit < servers.length ? [{ rel: 'next', href: `http://127.0.0.1/v2.1/servers/detail?all_tenants=1&limit=${limit}&marker=${page.at(-1)!.id}` }] : [];
    return send(200, { servers: page, servers_links: next });
  }
  send(404, { itemNotFound: { code: 404, message: `no route ${u.pathname}` } });
}

let dir: string;
let controller: ChildProcess | null = null;
let logs = '';
const agents: HonestAgent[] = [];
const ctl = (f = '') => path.join(dir, 'ctl', f);
let api: (method: string, route: string, body?: unknown) => Promise<any>;
const domains = async () => Object.fromEntries(((await api('GET', '/v1/nodes')).nodes as any[]).map((n) => [n.name, `${n.failureDomain}/${n.failureDomainSource}`]));
const pages = Math.ceil(SERVERS / 1000);

beforeAll(async () => {
  requireBuild();
  dir = tempDir('nw-hvmap-');
  nova = http.createServer(answer);
  await new Promise<void>((r) => nova.listen(0, '127.0.0.1', r));
  const novaPort = (nova.address() as AddressInfo).port;
  writeFileSync(path.join(dir, 'clouds.yaml'), `clouds:\n  fake:\n    auth_type: admin_token\n    auth: {endpoint: "http://127.0.0.1:${novaPort}/v2.1", token: "admin:admin"}\n    api_timeout: 5\n`, { mode: 0o600 });
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), XDG_CACHE_HOME: path.join(dir, 'cache'), OS_CLOUD: '' };
  expect(spawnSync('node', [CONTROLLER_CLI, 'init', '--dir', ctl(), '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000, env }).status).toBe(0);
  const yaml = readFileSync(ctl('controller.yaml'), 'utf8').replace(/^ {2}intervalSec: 10 .*$/m, '  intervalSec: 1');
  writeFileSync(ctl('controller.yaml'), `${yaml}server:\n  joinBurst: 100\nopenstack:\n  cloud: fake\n  mapIntervalSec: 3\n`, { mode: 0o600 });
  controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', ctl('controller.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env });
  controller.stdout!.on('data', (c) => (logs += c));
  controller.stderr!.on('data', (c) => (logs += c));
  const f = (n: string) => readFileSync(ctl(n), 'utf8');
  api = async (method, route, body) => {
    const r = await requestJson(`https://127.0.0.1:${port}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000, ca: f('ca.crt'), cert: f('operator.crt'), key: f('operator.key') });
    if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${r.text}`);
    return r.json ?? r.text;
  };
  await waitUntil('controller ready', () => requestJson(`https://127.0.0.1:${port}/readyz`, { timeoutMs: 2000, ca: f('ca.crt') }).then((r) => r.status === 200, () => false), 20_000, () => logs);
}, 60_000);

afterAll(async () => {
  if (controller?.pid && controller.exitCode === null) {
    process.kill(controller.pid, 'SIGTERM'); // exactly the process we started
    await new Promise((r) => controller!.once('exit', r));
  }
  for (const a of agents) await a.close();
  await new Promise((r) => nova?.close(r));
});

it('maps every enrolled node with one paged server listing and one hypervisor listing per refresh, whatever the fleet size', async () => {
  const signing = createPublicKey(readFileSync(ctl('signing.pub'), 'utf8'));
  const t0 = Date.now();
  for (let i = 0; i < NODES; i++) {
    const name = `w${i}`;
    const port = await freePort();
    const { token } = await api('POST', '/v1/join-tokens', { group: 'workers' });
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
    // half join with their instanceUuid, half report it only in their status
    const facts = { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt', ...(i % 2 ? { instanceUuid: uuid(i) } : {}) };
    const r = await api('POST', '/v1/join', { token, name, csr: csrPem, listen: `127.0.0.1:${port}`, facts });
    const a = new HonestAgent(name, 'workers', { keyPem, certPem: r.cert, caPem: readFileSync(ctl('ca.crt'), 'utf8') }, signing, 100);
    a.facts = { instanceUuid: uuid(i) };
    await a.listen(port);
    agents.push(a);
  }
  const want = Object.fromEntries(agents.map((a, i) => [a.name, `${i % 2 ? 'cmp-b' : 'cmp-a'}/instance-uuid`]));
  await waitUntil('every node mapped', async () => {
    const d = await domains();
    return Object.entries(want).every(([n, v]) => d[n] === v);
  }, 30_000, () => logs);
  const refreshes = requests['/v2.1/os-hypervisors/detail'];
  // complete listings only, one per refresh; 12 enrolments and 6 changed status facts triggered
  // refreshes, yet they come at most once per interval (3 s) after the first
  expect(requests['/v2.1/servers/detail']).toBe(refreshes * pages);
  expect(refreshes).toBeLessThanOrEqual(2 + Math.floor((Date.now() - t0) / 3000));
  expect(refreshes).toBeLessThan(NODES);
  const events = (await api('GET', '/v1/events?limit=10000')).events.filter((e: any) => e.kind === 'node.failure-domain');
  expect(events).toHaveLength(NODES);
  expect(events.find((e: any) => e.subject === 'w3').message).toBe(`w3 mapped to hypervisor cmp-b (instance-uuid ${uuid(3)})`);
  // /metrics reads the fleet view, which lists the store's nodes again within a second or so
  let metrics = '';
  await waitUntil('the mapping in /metrics', async () => (metrics = (await api('GET', '/metrics')) as string).includes('nodewright_nodes_unmapped 0'), 10_000);
  expect(metrics).toContain('nodewright_node_failure_domain{node="w3",group="workers",failure_domain="cmp-b",source="instance-uuid"} 1');
}, 90_000);

it('a moved server and a changed instanceUuid are noticed; Nova failing keeps the mapping and is logged with its code', async () => {
  servers[3]['OS-EXT-SRV-ATTR:host'] = 'cmp-a'; // w3's server, live-migrated
  agents[4].facts = { instanceUuid: uuid(5) }; // w4 now says it is vm-5 (cmp-b)
  await waitUntil('w3 and w4 moved', async () => {
    const d = await domains();
    return d.w3 === 'cmp-a/instance-uuid' && d.w4 === 'cmp-b/instance-uuid';
  }, 20_000, () => logs);
  const events = (await api('GET', '/v1/events?limit=10000')).events.filter((e: any) => e.kind === 'node.failure-domain');
  expect(events.map((e: any) => e.message)).toEqual(expect.arrayContaining([`w3 moved from cmp-b to cmp-a (instance-uuid ${uuid(3)})`, `w4 moved from cmp-a to cmp-b (instance-uuid ${uuid(5)})`]));
  down = true;
  const before = requests['/v2.1/os-hypervisors/detail'] ?? 0;
  await waitUntil('a failed refresh logged', () => /hypervisor mapping failed/.test(logs), 20_000, () => logs);
  expect(logs).toMatch(/"code":"NW_OPENSTACK[A-Z_]*".*hypervisor mapping failed/);
  expect((await domains()).w3).toBe('cmp-a/instance-uuid');
  expect((await api('GET', '/metrics')) as string).toMatch(/nodewright_hypervisor_map_refreshes_total\{outcome="failed"\} [1-9]/);
  down = false;
  await waitUntil('a refresh after Nova is back', async () => (requests['/v2.1/os-hypervisors/detail'] ?? 0) > before + 1, 20_000, () => logs);
  expect(controller!.exitCode).toBeNull();
}, 90_000);
