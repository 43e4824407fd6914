// deploy/prometheus through the real promtool (Debian's prometheus package): the alerting rules
// pass `check rules` and their unit tests (`test rules`), every series they read is one the agent's
// or the controller's /metrics really exposes, and the scrape example passes `check config`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../agent/metrics.js';
import { ControllerMetrics } from '../../../controller/metrics.js';
import { newRollout } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { createCa, createKeyAndCsr, signCsr } from '../../../pki/index.js';
import type { AgentStatus } from '../../../protocol/status.js';
import { tempDir } from '../../tmp.js';

const DIR = path.resolve('deploy/prometheus');
const promtool = (...args: string[]) => {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000, cwd: DIR });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

/** Both /metrics expositions, each rendered with every optional part present. */
function expositions(): { agent: string; controller: string } {
  const agent = new Metrics();
  agent.cert = { renewals: 1, failures: 1, lastError: null, notAfter: new Date(Date.now() + 86_400_000).toISOString(), renewAt: null };
  const status = { converged: true, ready: true, desired: { generation: 3 }, rollbacks: 1, steps: [{ name: 'keyring', state: 'ok' }], probes: [{ name: 'rbd', status: 'pass', ok: true }] } as unknown as AgentStatus;
  const controller = new ControllerMetrics();
  controller.leader = () => true;
  controller.ownCertNotAfter = () => new Date(Date.now() + 86_400_000).toISOString();
  controller.certExpiries = () => [['w1', new Date(Date.now() + 86_400_000).toISOString()]];
  controller.trackRollout(newRollout({ id: 'r1', target: 'group workers', now: new Date().toISOString(), strategy: parseStrategy(), nodes: [{ name: 'w1', baseGeneration: 1, previousGeneration: 1, canRollBack: true }] }));
  controller.nodeHealth = () => ['healthy', 'unreachable'];
  controller.failureDomains = () => [['w1', 'workers', { failureDomain: 'cmp-a', failureDomainSource: 'instance-uuid' }]];
  controller.observePoll(12, 'ok');
  controller.count(controller.pushes, 'accepted');
  controller.count(controller.gates, 'passed');
  agent.observeReconcile(true, 1500);
  return { agent: agent.render(status), controller: controller.render() };
}

function exposedNames(): Set<string> {
  const names = new Set(['up']);
  for (const text of Object.values(expositions())) for (const m of text.matchAll(/^# TYPE (\S+) /gm)) names.add(m[1]);
  return names;
}

describe('deploy/prometheus', () => {
  it('nodewright-rules.yml passes promtool check rules and every unit test in tests/', () => {
    const check = promtool('check', 'rules', 'nodewright-rules.yml');
    expect(check.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
    const tests = readdirSync(path.join(DIR, 'tests')).filter((f) => f.endsWith('.yml')).map((f) => path.join('tests', f));
    expect(tests.length).toBeGreaterThan(0);
    const run = promtool('test', 'rules', ...tests);
    expect(run.out).not.toMatch(/FAILED/);
    expect(run.code).toBe(0);
  });

  it('every series the rules read is one a /metrics endpoint exposes; every alert has a unit test', () => {
    const rules = readFileSync(path.join(DIR, 'nodewright-rules.yml'), 'utf8');
    const exprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]);
    const read = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(nodewright_[a-z_]+|up)\b/g)].map((m) => m[1])));
    const exposed = exposedNames();
    expect([...read].filter((n) => !exposed.has(n))).toEqual([]);
    expect(read.size).toBeGreaterThanOrEqual(10);
    const alerts = [...rules.matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]);
    const tested = readdirSync(path.join(DIR, 'tests')).map((f) => readFileSync(path.join(DIR, 'tests', f), 'utf8')).join('\n');
    expect(alerts.filter((a) => !tested.includes(`alertname: ${a}\n`))).toEqual([]);
  });

  it('both expositions with every optional series present pass promtool check metrics', () => {
    for (const [who, text] of Object.entries(expositions())) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
      expect([who, r.stdout + r.stderr, r.status]).toEqual([who, '', 0]);
    }
  });

  it('prometheus.example.yml passes promtool check config (with its certificate files in place)', async () => {
    const dir = tempDir('nw-prometheus-example-');
    const ca = await createCa({ commonName: 'test fleet CA' });
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'prometheus' });
    const { certPem } = await signCsr({ ca, csrPem, role: 'metrics', name: 'prometheus' });
    writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(path.join(dir, 'prometheus.crt'), certPem);
    writeFileSync(path.join(dir, 'prometheus.key'), keyPem, { mode: 0o600 });
    const example = readFileSync(path.join(DIR, 'prometheus.example.yml'), 'utf8');
    expect(example.match(/\/etc\/prometheus\/nodewright\//g)?.length).toBe(9);
    writeFileSync(path.join(dir, 'prometheus.yml'), example.replaceAll('/etc/prometheus/nodewright/', `${dir}/`));
    copyFileSync(path.join(DIR, 'nodewright-rules.yml'), path.join(dir, 'nodewright-rules.yml'));
    const r = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { encoding: 'utf8', timeout: 60_000, cwd: dir });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });
});
