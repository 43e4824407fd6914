// Prometheus's view of the fleet through real processes: a real controller (`init`, `controller run`)
// with a real enrolled agent daemon, and a client certificate of the `metrics` role issued by
// `nodewright ca issue --role metrics`. Covered: the http_sd endpoint lists the agent's metrics
// endpoint with its labels (metrics and operator may read it, an agent may not); the metrics role
// reads /metrics on the controller and on the agent it discovered (both pass `promtool check
// metrics`) and is refused (403) by every other route of both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, CONTROLLER_CLI, freePort, requireBuild, waitUntil } from '../agent/fixture.js';
import { call, PATH, run, stopChildren } from './fixture.js';

type Creds = { ca: string; cert?: string; key?: string };

/** `promtool check metrics` on an exposition: its complaints (empty when clean) and exit code. */
function promtoolCheck(text: string): { out: string; code: number | null } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { out: r.stdout + r.stderr, code: r.status };
}

/** Every route the controller's route files declare (METHOD, path with params filled in), read from the source: a new route is covered without editing this test. */
function declaredRoutes(): [string, string][] {
  const dir = path.resolve('controller/api/routes');
  const out: [string, string][] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/\.(get|post|put|delete|patch)(?:<[^(]*>)?\(\s*'(\/[^']*)'/g)) {
      out.push([m[1].toUpperCase(), m[2].replace(/:[A-Za-z]+/g, 'x')]);
    }
  }
  return out;
}

describe('Prometheus: http_sd of the agents and the metrics role', () => {
  let dir: string;
  let base: string;
  let agentPort: number;
  let controller: ChildProcess | null = null;
  let agent: ChildProcess | null = null;
  let logs = '';
  const env = () => ({ NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') });
  const nodewright = (...args: string[]) => run(CONTROLLER_CLI, args, env());
  const file = (...p: string[]) => readFileSync(path.join(dir, ...p), 'utf8');
  const as = (who: 'metrics' | 'operator' | 'agent' | 'none'): Creds =>
    who === 'none' ? { ca: file('ctl', 'ca.crt') }
      : who === 'metrics' ? { ca: file('ctl', 'ca.crt'), cert: file('prometheus.crt'), key: file('prometheus.key') }
        : who === 'operator' ? { ca: file('ctl', 'ca.crt'), cert: file('ctl', 'operator.crt'), key: file('ctl', 'operator.key') }
          : { ca: file('ctl', 'ca.crt'), cert: file('w1', 'agent.crt'), key: file('w1', 'agent.key') };

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-prometheus-it-');
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    expect(run(CONTROLLER_CLI, ['init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`]).code).toBe(0);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, file('ctl', 'controller.yaml').replace('intervalSec: 10', 'intervalSec: 0.5'));
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH } });
    controller.stderr!.on('data', (c) => (logs += c));
    await waitUntil('controller ready', async () => (await call(`${base}/readyz`, as('none')).catch(() => ({ status: 0 }))).status === 200, 15_000, () => logs);

    const t = JSON.parse(nodewright('nodes', 'join-token', '--group', 'lab', '--json').stdout) as { token: string; caCertHash: string };
    agentPort = await freePort();
    const joined = run(AGENT_CLI, ['join', '--controller', base, '--ca-cert-hash', t.caCertHash, '--config-out', path.join(dir, 'w1', 'agent.yaml'), '--listen', `127.0.0.1:${agentPort}`, '--name', 'w1', '--token', t.token]);
    expect(joined.stderr).toBe('');
    const agentCfg = path.join(dir, 'w1', 'agent.yaml');
    writeFileSync(agentCfg, file('w1', 'agent.yaml') + `root: ${path.join(dir, 'w1', 'root')}\nstateDir: /var/lib/nodewright\n`);
    agent = spawn('node', [AGENT_CLI, 'run', '--config', agentCfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH } });
    agent.stdout!.on('data', (c) => (logs += c));
    agent.stderr!.on('data', (c) => (logs += c));
    const polled = () => JSON.parse(nodewright('nodes', 'show', 'w1', '--json').stdout).state;
    await waitUntil('the controller polling w1', () => !['unknown', 'unreachable'].includes(polled()), 20_000, () => logs);

    // Prometheus's credential, as an operator makes it: its own key and CSR, signed with the metrics role
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'prometheus' });
    writeFileSync(path.join(dir, 'prometheus.key'), keyPem, { mode: 0o600 });
    writeFileSync(path.join(dir, 'prometheus.csr'), csrPem);
    const issued = nodewright('ca', 'issue', '--dir', path.join(dir, 'ctl'), '--csr', path.join(dir, 'prometheus.csr'), '--role', 'metrics', '--name', 'prometheus', '--out', path.join(dir, 'prometheus.crt'));
    expect(issued.stderr).toMatch(/: metrics prometheus /);
    expect(issued.code).toBe(0);
  }, 90_000);
  afterAll(() => stopChildren(agent, controller));

  it('/v1/prometheus/targets lists the agent\'s metrics endpoint with node and group (metrics, operator); an agent is 403, no certificate 401', async () => {
    const r = await call(`${base}/v1/prometheus/targets`, as('metrics'));
    expect(r.status).toBe(200);
    expect(r.json).toEqual([{ targets: [`127.0.0.1:${agentPort}`], labels: expect.objectContaining({ __scheme__: 'https', node: 'w1', group: 'lab' }) }]);
    expect((await call(`${base}/v1/prometheus/targets`, as('operator'))).json).toEqual(r.json);
    expect((await call(`${base}/v1/prometheus/targets`, as('agent'))).json.code).toBe('NW_FORBIDDEN');
    expect((await call(`${base}/v1/prometheus/targets`, as('none'))).status).toBe(401);
  });

  it('the metrics role reads the controller\'s /metrics (promtool check metrics: clean; leader 1) and the discovered agent\'s', async () => {
    const c = await call(`${base}/metrics`, as('metrics'));
    expect(c.status).toBe(200);
    expect(c.text).toMatch(/^nodewright_controller_leader 1$/m);
    expect(c.text).toMatch(/^nodewright_nodes\{state="healthy"\} 1$/m);
    expect(promtoolCheck(c.text)).toEqual({ out: '', code: 0 });
    const [target] = (await call(`${base}/v1/prometheus/targets`, as('metrics'))).json[0].targets as string[];
    const a = await call(`https://${target}/metrics`, as('metrics'));
    expect(a.status).toBe(200);
    expect(a.text).toMatch(/^nodewright_ready [01]$/m);
    expect(promtoolCheck(a.text)).toEqual({ out: '', code: 0 });
  });

  it('every other controller route answers the metrics role 403 before reading the body; so do the agent\'s status and mutations', async () => {
    const allowed = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /v1/prometheus/targets']);
    const routes = declaredRoutes().filter(([m, p]) => !allowed.has(`${m} ${p}`));
    expect(routes.length).toBeGreaterThanOrEqual(16); // compute-node routes too (a 404 here: no cloud configured)
    for (const [method, p] of [...routes, ['GET', '/v1/no-such-route']]) {
      const r = await call(`${base}${p}`, { ...as('metrics'), method, body: method === 'GET' || method === 'DELETE' ? undefined : '{"not":"checked"}' });
      expect([method, p, r.status, r.json?.code]).toEqual([method, p, 403, 'NW_FORBIDDEN']);
    }
    expect(JSON.parse(nodewright('nodes', 'ls', '--json').stdout).map((n: { name: string }) => n.name)).toEqual(['w1']);
    for (const [method, p] of [['GET', '/v1/status'], ['POST', '/v1/desired'], ['POST', '/v1/reconcile']]) {
      const r = await call(`https://127.0.0.1:${agentPort}${p}`, { ...as('metrics'), method, body: method === 'POST' ? '{}' : undefined });
      expect([p, r.status, r.json?.code]).toEqual([p, 403, 'NW_FORBIDDEN']);
    }
  });
});
