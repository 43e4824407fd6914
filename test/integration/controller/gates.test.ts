// Rollout gates through the real controller daemon (`nodewright controller run`) and Debian's real
// Prometheus (lab/prometheus) with a rule file the test loads: three nodes enrolled through the join
// API, each answered by an honest simulated agent (bench/sim-honest.ts). A firing alert matching the
// filter holds the rollout (waiting, the alert named, no agent gets a push); resolved, it continues
// and completes. Prometheus stopped: the gate holds with "prometheus unreachable" and never passes;
// started again on its port, the rollout completes. Status (--json, text), events and /metrics show it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { startPrometheus, type PrometheusLab } from '../../../lab/prometheus/lab.js';
import { freePort } from '../../../lab/ports.js';
import { startSimFleet, type SimFleet } from './sim-fleet.js';

const NODES = ['g1', 'g2', 'g3'];
const FIRING = `groups:\n  - name: test\n    rules:\n      - alert: NodewrightTestHold\n        expr: vector(1)\n        labels: { severity: critical }\n`;
const QUIET = `groups:\n  - name: test\n    rules: []\n`;

interface Status { id: string; state: string; reason: string | null; gates?: { gate: string; pass: boolean; message: string }[]; nodes: { name: string; phase: string }[] }

describe('rollout gates through the real controller and a real Prometheus', () => {
  let fleet: SimFleet;
  let prom: PrometheusLab | null = null;
  let promPort: number;
  const status = async (id: string) => (await fleet.api('GET', `/v1/rollouts/${id}`)).json as Status;
  const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => fleet.waitFor(what, ok, ms);
  const alertsFiring = async (want: boolean) => {
    const r = (await (await fetch(`${prom!.url}/api/v1/alerts`)).json()) as { data: { alerts: { state: string }[] } };
    return r.data.alerts.some((a) => a.state === 'firing') === want;
  };
  const setRules = async (text: string) => {
    writeFileSync(path.join(prom!.dir, 'test.rules.yml'), text);
    await prom!.reload();
  };

  function start(tag: string, strategy: object): string {
    const desired = path.join(fleet.dir, `desired-${tag}.yaml`);
    writeFileSync(desired, stringify(rolloutDesired(tag)));
    const file = path.join(fleet.dir, `strategy-${tag}.yaml`);
    writeFileSync(file, stringify(strategy));
    // (a flag beside --strategy would override the file's minHealthy)
    const r = fleet.nodewright('rollout', 'start', '--group', 'lab', '--desired', desired, '--strategy', file, ...('minHealthy' in strategy ? [] : ['--min-healthy', '0.5s']), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout).id as string;
  }

  beforeAll(async () => {
    promPort = await freePort();
    prom = await startPrometheus({ port: promPort, rules: { 'test.rules.yml': QUIET } });
    fleet = await startSimFleet({ nodes: NODES, extraConfig: 'gates:\n  intervalSec: 0.5\n  timeoutSec: 2\n' });
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
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
    expect(fleet.pushes).toEqual([]);
    const text = fleet.nodewright('rollout', 'status', id).stdout;
    expect(text).toContain('gate prometheus alerts ^NodewrightTest: holds — alert NodewrightTestHold firing');
    const metrics = (await fleet.api('GET', '/metrics')).text;
    expect(metrics).toContain(`nodewright_rollout_gate_passing{rollout="${id}",gate="prometheus alerts ^NodewrightTest"} 0`);
    expect(metrics).toMatch(/nodewright_rollout_gate_checks_total\{gate="prometheus alerts \^NodewrightTest",result="hold"\} [1-9]/);

    await setRules(QUIET);
    await waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 60_000);
    expect(fleet.pushes.sort()).toEqual([...NODES].sort());
    const events = ((await fleet.api('GET', '/v1/events?after=0&limit=10000')).json as { events: { kind: string; message: string; data?: { rollout?: string } }[] }).events.filter((e) => e.data?.rollout === id);
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['rollout.gate.failed', 'rollout.waiting', 'rollout.gate.passed', 'rollout.completed']));
    expect(events.find((e) => e.kind === 'rollout.gate.failed')!.message).toContain('holds: alert NodewrightTestHold firing');
  }, 120_000);

  it('an alert that fires while the canary is in flight holds the next wave; the canary finishes its own gate', async () => {
    fleet.pushes.length = 0;
    // minHealthy keeps the canary in flight well past the alert's first evaluation (rules every 1 s, the gate every 0.5 s)
    const id = start('midway', { steps: '1', minHealthy: '5s', gates: [{ prometheus: { url: prom!.url, alerts: '^NodewrightTest' } }] });
    await waitFor('the canary pushed', () => fleet.pushes.length === 1);
    await setRules(FIRING);
    await waitFor('the rollout held by the gate', async () => (await status(id)).reason?.includes('NodewrightTestHold') ?? false);
    expect((await status(id)).nodes.filter((n) => n.phase !== 'pending').map((n) => n.phase)).toEqual(['gating']);
    await waitFor('the canary healthy', async () => (await status(id)).nodes.find((n) => n.name === fleet.pushes[0])?.phase === 'healthy');
    await new Promise((r) => setTimeout(r, 2000));
    const held = await status(id);
    expect(fleet.pushes).toHaveLength(1);
    expect(held.state).toBe('waiting');
    await setRules(QUIET);
    await waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 90_000);
    expect([...fleet.pushes].sort()).toEqual(NODES);
  }, 150_000);

  it('Prometheus stopped: the gate holds with "prometheus unreachable" and never passes; back on its port, the rollout completes', async () => {
    await prom!.stop();
    fleet.pushes.length = 0;
    const id = start('down', { steps: '1', gates: [{ prometheus: { url: `http://127.0.0.1:${promPort}`, query: 'sum(up == 0)', pass: 'result == 0' } }] });
    await waitFor('the rollout held by the gate', async () => (await status(id)).reason?.includes('prometheus unreachable') ?? false);
    const held = await status(id);
    expect(held.state).toBe('waiting');
    expect(held.reason).toBe(`gate prometheus query sum(up == 0) holds: prometheus unreachable (http://127.0.0.1:${promPort}: ECONNREFUSED)`);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await status(id)).state).toBe('waiting');
    expect(fleet.pushes).toEqual([]);

    prom = await startPrometheus({ port: promPort });
    await waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 60_000);
    expect(fleet.pushes.sort()).toEqual([...NODES].sort());
    expect((await status(id)).gates).toEqual([{ index: 0, gate: 'prometheus query sum(up == 0)', pass: true, message: 'no samples meets result == 0' }]);
  }, 120_000);
});
