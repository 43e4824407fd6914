// The controller as real processes: `nodewright init`, `controller run` over TLS, a join token,
// `nodewright-agent join` against it, the inventory, refusals (used token, wrong CA pin, no or a
// foreign client certificate) and the poller judging a node that answers over mutual TLS.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { identityOf } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, CONTROLLER_CLI, requireBuild } from '../agent/fixture.js';

function run(cli: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Async: the stand-in agent below lives in this process and must keep answering while the CLI runs. */
function runAsync(cli: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function get(url: string, o: https.RequestOptions = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent: false, ...o }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: t ? JSON.parse(t) : null }));
      })
      .on('error', reject);
  });
}

describe('controller enrollment and inventory', () => {
  let dir: string;
  let port: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  const env = () => ({ NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') });
  const nodewright = (...args: string[]) => run(CONTROLLER_CLI, args, env());
  const ca = () => readFileSync(path.join(dir, 'ctl', 'ca.crt'), 'utf8');

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-controller-it-');
    port = await freePort();
  });
  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null) {
      process.kill(controller.pid, 'SIGTERM');
      await new Promise((r) => controller!.once('exit', r));
    }
  });

  it('init writes the keys (0600), both configs, and refuses to run twice', () => {
    const r = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.caCertHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const f of ['ca.key', 'controller.key', 'operator.key', 'signing.key']) expect(statSync(path.join(dir, 'ctl', f)).mode & 0o777).toBe(0o600);
    expect(identityOf(new X509Certificate(readFileSync(path.join(dir, 'ctl', 'operator.crt'))))).toEqual({ name: 'operator', role: 'operator' });
    expect(readFileSync(path.join(dir, 'ctl', 'operator.yaml'), 'utf8')).toContain(`controller: "https://127.0.0.1:${port}"`);
    const key = readFileSync(path.join(dir, 'ctl', 'ca.key'), 'utf8');
    const again = nodewright('init', '--dir', path.join(dir, 'ctl'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^NW_EXISTS: /);
    expect(readFileSync(path.join(dir, 'ctl', 'ca.key'), 'utf8')).toBe(key);
  });

  it('controller run serves /healthz and /readyz over TLS', async () => {
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 0.3').replace('timeoutSec: 5', 'timeoutSec: 1\n  maxBackoffSec: 1'));
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs += c));
    const ready = await waitFor(`controller /readyz (logs: ${logs})`, async () => (await get(`https://127.0.0.1:${port}/readyz`, { ca: ca() })).status === 200);
    expect(ready).toBe(true);
    expect((await get(`https://127.0.0.1:${port}/healthz`, { ca: ca() })).json).toEqual({ ok: true });
  });

  let token: { token: string; caCertHash: string; expiresAt: string };
  const IUUID = '5a3c2b1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d';
  let agentPort: number;

  it('join-token → agent join writes agent.yaml and its files; the node is in the inventory', async () => {
    const t = nodewright('nodes', 'join-token', '--group', 'lab', '--labels', 'zone=a', '--ttl', '10m', '--json');
    expect(t.stderr).toBe('');
    token = JSON.parse(t.stdout);
    expect(Object.keys(token).sort()).toEqual(['caCertHash', 'expiresAt', 'token']);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    agentPort = await freePort();
    const out = path.join(dir, 'w1', 'agent.yaml');
    const j = run(AGENT_CLI, ['join', '--controller', `https://127.0.0.1:${port}`, '--token', token.token, '--ca-cert-hash', token.caCertHash, '--config-out', out, '--listen', `127.0.0.1:${agentPort}`, '--name', 'w1', '--instance-uuid', IUUID.toUpperCase()]);
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    expect(readdirSync(path.join(dir, 'w1')).sort()).toEqual(['agent.crt', 'agent.key', 'agent.yaml', 'ca.crt', 'controller.pub']);
    expect(statSync(path.join(dir, 'w1', 'agent.key')).mode & 0o777).toBe(0o600);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toContain(`listen: "127.0.0.1:${agentPort}"`);
    expect(yaml).toMatch(/nodeGroup: "lab"/);
    expect(yaml).toContain(`instanceUuid: "${IUUID}"`); // the agent reports it in its status facts
    expect(yaml).toMatch(/tls:\n  cert: agent.crt\n  key: agent.key\n  ca: ca.crt/);
    expect(readFileSync(path.join(dir, 'w1', 'controller.pub'), 'utf8')).toBe(readFileSync(path.join(dir, 'ctl', 'signing.pub'), 'utf8'));
    const cert = new X509Certificate(readFileSync(path.join(dir, 'w1', 'agent.crt')));
    expect(identityOf(cert)).toEqual({ name: 'w1', role: 'agent' });
    expect(cert.checkIssued(new X509Certificate(ca()))).toBe(true);

    const ls = nodewright('nodes', 'ls', '--json');
    expect(ls.stderr).toBe('');
    const nodes = JSON.parse(ls.stdout);
    expect(nodes).toEqual([expect.objectContaining({ name: 'w1', group: 'lab', labels: { zone: 'a' }, url: `https://127.0.0.1:${agentPort}`, facts: expect.objectContaining({ instanceUuid: IUUID }) })]);
    expect(nodes[0]).toMatchObject({ failureDomain: null, failureDomainSource: null }); // no cloud: failureDomain none
    expect(['unknown', 'unreachable']).toContain(nodes[0].state);
  });

  it('a used token, a malformed token and a wrong CA pin are refused and write nothing', () => {
    const join = (sub: string, tok: string, hash: string) =>
      run(AGENT_CLI, ['join', '--controller', `https://127.0.0.1:${port}`, '--token', tok, '--ca-cert-hash', hash, '--config-out', path.join(dir, sub, 'agent.yaml'), '--listen', '127.0.0.1:1', '--name', sub]);
    const used = join('w2', token.token, token.caCertHash);
    expect(used.code).toBe(2);
    expect(used.stderr).toMatch(/^NW_TOKEN: /);
    expect(join('w3', 'abcdef.0123456789abcdef', token.caCertHash).stderr).toMatch(/^NW_TOKEN: /);
    const pin = join('w4', token.token, `sha256:${'0'.repeat(64)}`);
    expect(pin.stderr).toMatch(/^NW_TLS: .*no CA matching/);
    for (const sub of ['w2', 'w3', 'w4']) expect(existsSync(path.join(dir, sub))).toBe(false);
    expect(JSON.parse(nodewright('nodes', 'ls', '--json').stdout).map((n: { name: string }) => n.name)).toEqual(['w1']);
  });

  it('operator routes need a fleet client certificate with the operator role', async () => {
    expect((await get(`https://127.0.0.1:${port}/v1/nodes`, { ca: ca() })).json).toMatchObject({ code: 'NW_AUTH' });
    // a certificate of another CA
    const other = run(CONTROLLER_CLI, ['init', '--dir', path.join(dir, 'other'), '--listen', `127.0.0.1:${port}`]);
    expect(other.code).toBe(0);
    const foreign = { ca: ca(), cert: readFileSync(path.join(dir, 'other', 'operator.crt')), key: readFileSync(path.join(dir, 'other', 'operator.key')) };
    const r = await get(`https://127.0.0.1:${port}/v1/nodes`, foreign);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('NW_AUTH');
    // the agent's own certificate: right CA, wrong role
    const agentCert = { ca: ca(), cert: readFileSync(path.join(dir, 'w1', 'agent.crt')), key: readFileSync(path.join(dir, 'w1', 'agent.key')) };
    expect((await get(`https://127.0.0.1:${port}/v1/nodes`, agentCert)).json).toMatchObject({ code: 'NW_FORBIDDEN' });
    const viaOther = run(CONTROLLER_CLI, ['nodes', 'ls', '--json', '--operator-config', path.join(dir, 'other', 'operator.yaml')]);
    expect(viaOther.code).toBe(2);
  });

  it('the poller sees the node healthy over mutual TLS, degraded, then unreachable when it stops', async () => {
    const w = (f: string) => readFileSync(path.join(dir, 'w1', f));
    const now = () => new Date().toISOString();
    let body: Record<string, unknown> = { agent: { version: '0.1.0', pid: 1, startedAt: now(), node: 'w1' }, facts: { hostname: 'w1', addresses: ['127.0.0.1'], runtime: 'rkt' }, desired: null, converged: true, ready: true, steps: [], kubelet: {}, lastReconcile: null, lastError: null, probes: [], rollbacks: 0, reconciles: 0, recovery: null, inflight: null };
    const callers: string[] = [];
    const server = https.createServer({ cert: w('agent.crt'), key: w('agent.key'), ca: w('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      callers.push(identityOf((req.socket as import('node:tls').TLSSocket).getPeerCertificate())?.role ?? 'none');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(agentPort, '127.0.0.1', r));
    try {
      const state = async () => JSON.parse((await runAsync(CONTROLLER_CLI, ['nodes', 'ls', '--json'], env())).stdout)[0];
      const healthy = async () => { const n = await state(); return n.state === 'healthy' && n; };
      expect(await waitFor('w1 healthy', healthy)).toMatchObject({ generation: null, converged: true, ready: true, reason: 'no desired state yet' });
      expect(callers).toContain('controller');
      // a generation this controller never signed for w1: not believed, not kept
      body = { ...body, desired: { generation: 3, acceptedAt: now() }, lastReconcile: { at: now(), durationMs: 10, trigger: 'desired', ok: true, generation: 3 } };
      const degraded = async () => { const n = await state(); return n.state === 'degraded' && n; };
      expect(await waitFor('w1 degraded', degraded)).toMatchObject({ generation: null, reason: 'reports generation 3 the controller never signed (highest signed 0)' });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    // the health transition's event time vs the moment the node went away: within 3 intervals (+ the 1 s request timeout)
    const stoppedAt = Date.now();
    await waitFor('w1 unreachable', () => JSON.parse(nodewright('nodes', 'ls', '--json').stdout)[0].state === 'unreachable');
    const events = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    const down = events.filter((e) => e.kind === 'node.health' && e.data?.to === 'unreachable').pop();
    expect(Date.parse(down.at) - stoppedAt).toBeLessThan(3 * 300 + 1000);
    const ev = nodewright('events', '--json');
    const kinds = ev.stdout.trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds).toEqual(expect.arrayContaining(['join-token.created', 'node.enrolled', 'node.health']));
  });

  it('SIGTERM stops the controller with exit 0', async () => {
    process.kill(controller!.pid!, 'SIGTERM');
    const code = await new Promise((r) => controller!.once('exit', r));
    expect(code).toBe(0);
  });
});
