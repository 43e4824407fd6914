// `nodewright-agent run` with tls: in agent.yaml, as a real process on loopback: client certificates
// of the fleet CA decide who may read and change the worker; `nodewright bundle push --ca --cert --key`
// pushes over it. Refusals change nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AgentClient } from '../../../controller/fleet/agent-client.js';
import type { AgentCredentials } from '../../../controller/push.js';
import { AGENT_CLI, CONTROLLER_CLI, desiredKeyringOnly, requireBuild, runCli, sandbox, waitUntil, type Sandbox } from './fixture.js';
import { fleet, type Fleet } from './pki-fixture.js';
import { workersFromAgents } from '../../../controller/commands/agent-facts.js';

let sb: Sandbox;
let pki: Fleet;
let agent: ChildProcess;
let logs = '';

const waitFor = (what: string, f: () => boolean | Promise<boolean>) => waitUntil(what, f, 30_000, () => logs);
const base = () => `https://127.0.0.1:${sb.port}`;
type Who = keyof Fleet['clients'] | 'none';
const creds = (who: Who, token?: string): AgentCredentials => ({
  token,
  tls: { ca: pki.ca.certPem, ...(who === 'none' ? { cert: undefined as never, key: undefined as never } : pki.clients[who]) },
});
const call = (who: Who, method: 'GET' | 'POST', p: string, body?: unknown, token?: string) =>
  new AgentClient().call({ url: base(), ...creds(who, token) }, { method, path: p, body, maxBytes: 1 << 20, deadlineMs: 20_000 });
const stateFile = () => sb.real('/var/lib/nodewright/state.json');
const readState = () => (existsSync(stateFile()) ? readFileSync(stateFile(), 'utf8') : null);

beforeAll(async () => {
  requireBuild();
  pki = await fleet();
  sb = await sandbox();
  writeFileSync(sb.config, readFileSync(sb.config, 'utf8') + pki.install(sb.dir));
  agent = spawn('node', [AGENT_CLI, 'run', '--config', sb.config], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  await waitFor('https /healthz', async () => (await call('none', 'GET', '/healthz').catch(() => ({ status: 0 }))).status === 200);
}, 60_000);
afterAll(() => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  sb?.cleanup();
});

describe('agent over TLS with client certificates', () => {
  test('/healthz and /readyz are open; the agent presents its fleet certificate', async () => {
    expect((await call('none', 'GET', '/healthz')).status).toBe(200);
    expect((await call('none', 'GET', '/readyz')).status).toBe(503); // no desired state yet
    // A client that does not trust the fleet CA refuses the agent's certificate.
    await expect(new AgentClient().call({ url: base(), tls: { ca: pki.foreignCa.certPem, ...pki.clients.controller } }, { method: 'GET', path: '/healthz', maxBytes: 1 << 20, deadlineMs: 10_000 })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  test('controller and operator certificates read status and metrics (200)', async () => {
    for (const who of ['controller', 'operator'] as const) {
      const s = await call(who, 'GET', '/v1/status');
      expect(s.status).toBe(200);
      expect((s.body as { agent: { pid: number } }).agent.pid).toBe(agent.pid);
      expect((await call(who, 'GET', '/metrics')).status).toBe(200);
    }
  });

  test('a metrics certificate (Prometheus) reads /metrics, which passes `promtool check metrics`; every other route is 403, state untouched', async () => {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      request(new URL('/metrics', base()), { ca: pki.ca.certPem, ...pki.clients.metrics }, (res) => {
        let t = '';
        res.setEncoding('utf8').on('data', (d: string) => (t += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
      }).on('error', reject).end();
    });
    expect(status).toBe(200);
    expect(text).toMatch(/^nodewright_ready [01]$/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    const before = readState();
    const bundle = sb.sign(desiredKeyringOnly(1));
    for (const [method, p, body] of [['GET', '/v1/status'], ['POST', '/v1/desired', bundle], ['POST', '/v1/reconcile', {}]] as const) {
      const r = await call('metrics', method, p, body);
      expect([p, r.status, (r.body as { code: string }).code]).toEqual([p, 403, 'NW_FORBIDDEN']);
    }
    expect(readState()).toBe(before);
  });

  test('/v1/status carries an ETag; If-None-Match with it → 304 without a body, another tag → 200', async () => {
    const get = (ifNoneMatch?: string) =>
      new Promise<{ status: number; etag: string; body: string }>((resolve, reject) => {
        const req = request(new URL('/v1/status', base()), { ca: pki.ca.certPem, ...pki.clients.controller, headers: ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {} }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag), body }));
        });
        req.on('error', reject).end();
      });
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(JSON.parse(first.body).agent.pid).toBe(agent.pid);
    const again = await get(first.etag);
    expect(again).toEqual({ status: 304, etag: first.etag, body: '' });
    expect((await get('"other"')).status).toBe(200);
  });

  test('refusals: no cert → 401, foreign CA → 401, agent role → 403, bearer token → 401; state untouched', async () => {
    const before = readState();
    const bundle = sb.sign(desiredKeyringOnly(1));
    for (const [method, p, body] of [['GET', '/v1/status'], ['GET', '/metrics'], ['POST', '/v1/desired', bundle], ['POST', '/v1/reconcile', {}]] as const) {
      const none = await call('none', method, p, body);
      expect([none.status, (none.body as { code: string }).code]).toEqual([401, 'NW_AUTH']);
      const foreign = await call('foreign', method, p, body);
      expect([foreign.status, (foreign.body as { code: string }).code]).toEqual([401, 'NW_AUTH']);
      const asAgent = await call('agent', method, p, body);
      expect([asAgent.status, (asAgent.body as { code: string }).code]).toEqual([403, 'NW_FORBIDDEN']);
      const token = await call('none', method, p, body, sb.token);
      expect(token.status).toBe(401);
    }
    expect(readState()).toBe(before);
    expect(existsSync(sb.real('/etc/ceph/ceph.client.k8s.keyring'))).toBe(false);
  });

  test('keep-alive is held longer than the 10 s poll interval', async () => {
    const headers = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: sb.port, ca: pki.ca.certPem, ...pki.clients.controller }, () => {
        s.write(`GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
      });
      let data = '';
      s.setEncoding('utf8').on('data', (d: string) => {
        data += d;
        if (data.includes('\r\n\r\n')) {
          s.destroy();
          resolve(data.split('\r\n\r\n')[0]);
        }
      });
      s.on('error', reject);
    });
    expect(headers).toMatch(/^HTTP\/1.1 200/);
    expect(headers.toLowerCase()).toContain('keep-alive: timeout=75');
  });

  test('bundle push --ca --cert --key: controller cert converges the worker; agent cert NW_FORBIDDEN; wrong --ca NW_TLS', async () => {
    const f = (name: string, text: string) => {
      const p = path.join(sb.dir, name);
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    const bundle = f('b1.json', JSON.stringify(sb.sign(desiredKeyringOnly(1))));
    const ca = f('ca.pem', pki.ca.certPem);
    const tlsArgs = (who: keyof Fleet['clients'], caFile = ca) => ['--ca', caFile, '--cert', f(`${who}.crt`, pki.clients[who].cert), '--key', f(`${who}.key`, pki.clients[who].key)];

    const forbidden = runCli(CONTROLLER_CLI, ['bundle', 'push', bundle, '--agent', base(), ...tlsArgs('agent')]);
    expect([forbidden.code, forbidden.stderr]).toEqual([2, expect.stringMatching(/^NW_FORBIDDEN: .*role agent/)]);
    const wrongCa = runCli(CONTROLLER_CLI, ['bundle', 'push', bundle, '--agent', base(), ...tlsArgs('controller', f('foreign.pem', pki.foreignCa.certPem))]);
    expect([wrongCa.code, wrongCa.stderr]).toEqual([2, expect.stringMatching(/^NW_TLS: /)]);
    const noCert = runCli(CONTROLLER_CLI, ['bundle', 'push', bundle, '--agent', base()]);
    expect(noCert.stderr).toMatch(/^NW_USAGE: .*--ca, --cert and --key/);
    expect(existsSync(sb.real('/etc/ceph/ceph.client.k8s.keyring'))).toBe(false);

    const ok = runCli(CONTROLLER_CLI, ['bundle', 'push', bundle, '--wait', '--agent', base(), ...tlsArgs('controller')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/accepted generation 1\nready=true converged=true/);
    expect(readFileSync(sb.real('/etc/ceph/ceph.client.k8s.keyring'), 'utf8')).toContain('[client.k8s]');
    const op = runCli(CONTROLLER_CLI, ['bundle', 'push', f('b2.json', JSON.stringify(sb.sign(desiredKeyringOnly(2)))), '--wait', '--agent', base(), ...tlsArgs('operator')]);
    expect([op.code, op.stdout]).toEqual([0, expect.stringMatching(/accepted generation 2/)]);
  });

  test('hosts map --agent reads facts over TLS with a controller or operator certificate; an agent certificate or none is refused', async () => {
    const tls = (who: keyof Fleet['clients']) => ({ tls: { ca: pki.ca.certPem, ...pki.clients[who] } });
    const [w] = await workersFromAgents([base()], tls('operator'));
    expect(w).toMatchObject({ source: base() });
    expect(w.node).toBeTruthy();
    expect(Array.isArray(w.addresses)).toBe(true);
    await expect(workersFromAgents([base()], tls('agent'))).rejects.toMatchObject({ code: 'NW_FORBIDDEN' });
    await expect(workersFromAgents([base()], { tls: { ca: pki.ca.certPem, cert: undefined as never, key: undefined as never } })).rejects.toMatchObject({ code: 'NW_AUTH' });
  });
});
