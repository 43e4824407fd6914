// Rollout gates through the real controller daemon (`nodewright controller run`) and Debian's real
// Prometheus (lab/prometheus) with a rule file the test loads: three nodes enrolled through the join
// API, each answered by an honest simulated agent (bench/sim-honest.ts). A firing alert matching the
// filter holds the rollout (waiting, the alert named, no agent gets a push); resolved, it continues
// and completes. Prometheus stopped: the gate holds with "prometheus unreachable" and never passes;
// started again on its port, the rollout completes. Status (--json, text), events and /metrics show it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { requestJson } from '../../../host/http-json.js';
import { startPrometheus, type PrometheusLab } from '../../../lab/prometheus/lab.js';
import { freePort } from '../../../lab/ports.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

const NODES = ['g1', 'g2', 'g3'];
const FIRING = `groups:\n  - name: test\n    rules:\n      - alert: NodewrightTestHold\n        expr: vector(1)\n        labels: { severity: critical }\n`;
const QUIET = `groups:\n  - name: test\n    rules: []\n`;

interface Status { id: string; state: string; reason: string | null; gates?: { gate: string; pass: boolean; message: string }[]; nodes: { name: string; phase: string }[] }

describe('rollout gates through the real controller and a real Prometheus', () => {
  let dir: string;
  let port: number;
  let controller: ChildProcess | null = null;
  let prom: PrometheusLab | null = null;
  let promPort: number;
  let logs = '';
  const agents: HonestAgent[] = [];
  const pushes: string[] = [];
  const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const nodewright = (...args: string[]) =>
    spawnSync('node', [CONTROLLER_CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') } });
  const api = async (method: string, route: string) => {
    const r = await requestJson(`https://127.0.0.1:${port}${route}`, { method, timeoutMs: 10_000, ca: ctl('ca.crt'), cert: ctl('operator.crt'), key: ctl('operator.key') });
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r;
  };
  const status = async (id: string) => (await api('GET', `/v1/rollouts/${id}`)).json as Status;
  const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => waitUntil(what, ok, ms, () => logs);
  const alertsFiring = async (want: boolean) => {
    const r = (await (await fetch(`${prom!.url}/api/v1/alerts`)).json()) as { data: { alerts: { state: string }[] } };
    return r.data.alerts.some((a) => a.state === 'firing') === want;
  };
  const setRules = async (text: string) => {
    writeFileSync(path.join(prom!.dir, 'test.rules.yml'), text);
    await prom!.reload();
  };

  function start(tag: string, strategy: object): string {
    const desired = path.join(dir, `desired-${tag}.yaml`);
    writeFileSync(desired, stringify(rolloutDesired(tag)));
    const file = path.join(dir, `strategy-${tag}.yaml`);
    writeFileSync(file, stringify(strategy));
    const r = nodewright('rollout', 'start', '--group', 'lab', '--desired', desired, '--strategy', file, '--min-healthy', '0.5s', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout).id as string;
  }

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-gates-');
    port = await freePort();
    promPort = await freePort();
    prom = await startPrometheus({ port: promPort, rules: { 'test.rules.yml': QUIET } });
    const init = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`);
    if (init.status !== 0) throw new Error(init.stderr);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 0.2').replace('rolloutIntervalSec: 1', 'rolloutIntervalSec: 0.2').replace('timeoutSec: 5', 'timeoutSec: 2\n  maxBackoffSec: 1') +
        'gates:\n  intervalSec: 0.5\n  timeoutSec: 2\n',
    );
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs = (logs + c).slice(-20_000)));
    await waitFor('the controller ready', () => nodewright('nodes', 'ls', '--json').status === 0);
    const signingKey = createPublicKey(ctl('signing.pub'));
    for (const name of NODES) {
      const t = nodewright('nodes', 'join-token', '--group', 'lab', '--json');
      if (t.status !== 0) throw new Error(t.stderr);
      const agentPort = await freePort();
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
      const j = (await requestJson(`https://127.0.0.1:${port}/v1/join`, {
        method: 'POST', timeoutMs: 10_000, ca: ctl('ca.crt'),
        body: JSON.stringify({ token: JSON.parse(t.stdout).token, name, csr: csrPem, listen: `127.0.0.1:${agentPort}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } }),
      })).json as { cert: string };
      const agent = new HonestAgent(name, 'lab', { keyPem, certPem: j.cert, caPem: ctl('ca.crt') }, signingKey, 200);
      const accept = agent.accept.bind(agent);
      agent.accept = (text: string) => {
        const r = accept(text);
        if (r.status === 202) pushes.push(name);
        return r;
      };
      await agent.listen(agentPort);
      agents.push(agent);
    }
    await waitFor('every node healthy', async () => {
      const { nodes } = (await api('GET', '/v1/nodes')).json as { nodes: { state: string }[] };
      return nodes.length === NODES.length && nodes.every((n) => n.state === 'healthy');
    });
  }, 120_000);

  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      process.kill(controller.pid, 'SIGTERM');
      await exited;
    }
    for (const a of agents) await a.close();
    await prom?.stop();
  });

  it('a firing alert matching the filter holds the rollout before any node; resolved, it continues and completes', async () => {
    await setRules(FIRING);
    await waitFor('the test alert firing', () => alertsFiring(true));
    const id = start('alert', { steps: '1', gates: [{ prometheus: { url: prom!.url, alerts: '^NodewrightTest', firingOnly: true, labels: { severity: 'critical' } } }] });
    await waitFor('the rollout held by the gate', async () => (await status(id)).reason?.includes('NodewrightTestHold') ?? false);
    const held = await status(id);
    expect(held.state).toBe('waiting');
    expect(held.reason).toBe('gate prometheus alerts ^NodewrightTest holds: alert NodewrightTestHold firing');
    expect(held.gates).toEqual([{ index: 0, gate: 'prometheus alerts ^NodewrightTest', pass: false, message: 'alert NodewrightTestHold firing' }]);
    // held for a while: still waiting, and no agent was touched
    await new Promise((r) => setTimeout(r, 2000));
    expect((await status(id)).state).toBe('waiting');
    expect(pushes).toEqual([]);
    const text = nodewright('rollout', 'status', id).stdout;
    expect(text).toContain('gate prometheus alerts ^NodewrightTest: holds — alert NodewrightTestHold firing');
    const metrics = (await api('GET', '/metrics')).text;
    expect(metrics).toContain(`nodewright_rollout_gate_passing{rollout="${id}",gate="prometheus alerts ^NodewrightTest"} 0`);
    expect(metrics).toMatch(/nodewright_rollout_gate_checks_total\{gate="prometheus alerts \^NodewrightTest",result="hold"\} [1-9]/);

    await setRules(QUIET);
    await waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 60_000);
    expect(pushes.sort()).toEqual([...NODES].sort());
    const events = ((await api('GET', '/v1/events?after=0&limit=10000')).json as { events: { kind: string; message: string; data?: { rollout?: string } }[] }).events.filter((e) => e.data?.rollout === id);
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['rollout.gate.failed', 'rollout.waiting', 'rollout.gate.passed', 'rollout.completed']));
    expect(events.find((e) => e.kind === 'rollout.gate.failed')!.message).toContain('holds: alert NodewrightTestHold firing');
  }, 120_000);

  it('Prometheus stopped: the gate holds with "prometheus unreachable" and never passes; back on its port, the rollout completes', async () => {
    await prom!.stop();
    pushes.length = 0;
    const id = start('down', { steps: '1', gates: [{ prometheus: { url: `http://127.0.0.1:${promPort}`, query: 'sum(up == 0)', pass: 'result == 0' } }] });
    await waitFor('the rollout held by the gate', async () => (await status(id)).reason?.includes('prometheus unreachable') ?? false);
    const held = await status(id);
    expect(held.state).toBe('waiting');
    expect(held.reason).toBe(`gate prometheus query sum(up == 0) holds: prometheus unreachable (http://127.0.0.1:${promPort}: ECONNREFUSED)`);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await status(id)).state).toBe('waiting');
    expect(pushes).toEqual([]);

    prom = await startPrometheus({ port: promPort });
    await waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 60_000);
    expect(pushes.sort()).toEqual([...NODES].sort());
    expect((await status(id)).gates).toEqual([{ index: 0, gate: 'prometheus query sum(up == 0)', pass: true, message: 'no samples meets result == 0' }]);
  }, 120_000);
});
