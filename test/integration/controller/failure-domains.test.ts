// Failure-domain waves through the real controller daemon (`nodewright controller run`): six nodes
// enroll with the real join API, labelled zone=a (three), zone=b (two) and one without a zone, each
// answered by an honest simulated agent (bench/sim-honest.ts: signature and replay checks, a status
// that converges after a short reconcile). The proof is the agents' own acceptance times, not only
// the plan: with `--failure-domain label:zone` no agent accepted a push while another node of its
// zone was still in progress; with `--failure-domain none` (the control) two zone-a nodes were.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { requestJson } from '../../../host/http-json.js';
import { freePort } from '../../../lab/ports.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

const RECONCILE_MS = 300;
const MIN_HEALTHY_MS = 1000;
const ZONES: Record<string, string | null> = { a1: 'a', a2: 'a', a3: 'a', b1: 'b', b2: 'b', c1: null };

interface Acceptance { node: string; generation: number; at: number }
interface StatusNode { name: string; wave: number; failureDomain: string; phase: string }
interface Status { id: string; state: string; failureDomainSource: string; unmapped: number; failureDomainNote: string | null; waveCount: number; nodes: StatusNode[] }

describe('failure-domain waves through the real controller', () => {
  let dir: string;
  let port: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  const agents: HonestAgent[] = [];
  const accepted: Acceptance[] = [];
  const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const nodewright = (...args: string[]) =>
    spawnSync('node', [CONTROLLER_CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') } });
  const api = async (method: string, route: string, body?: unknown) => {
    const r = await requestJson(`https://127.0.0.1:${port}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000, ca: ctl('ca.crt'), cert: ctl('operator.crt'), key: ctl('operator.key') });
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r.json as any;
  };
  const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => waitUntil(what, ok, ms, () => logs);

  /** Start a rollout with the CLI and wait until it completed; its status and the acceptances it caused. */
  async function rollout(tag: string, flags: string[], during?: () => void): Promise<{ status: Status; pushes: Acceptance[]; healthyAt: Map<string, number>; events: { kind: string; subject: string; data?: Record<string, unknown> }[] }> {
    const file = path.join(dir, `desired-${tag}.yaml`);
    writeFileSync(file, stringify(rolloutDesired(tag)));
    const from = accepted.length;
    const r = nodewright('rollout', 'start', '--group', 'lab', '--desired', file, '--steps', '2', '--max-unavailable', '2', '--min-healthy', `${MIN_HEALTHY_MS / 1000}s`, '--gate-timeout', '30s', ...flags, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const id = JSON.parse(r.stdout).id as string;
    during?.();
    await waitFor(`rollout ${id} completed`, async () => (await api('GET', `/v1/rollouts/${id}`)).state === 'completed');
    const status = JSON.parse(nodewright('rollout', 'status', id, '--json').stdout) as Status;
    const events = ((await api('GET', '/v1/events?after=0&limit=10000')).events as { at: string; kind: string; subject: string; data?: { rollout?: string } }[])
      .filter((e) => e.data?.rollout === id);
    const healthyAt = new Map(events.filter((e) => e.kind === 'rollout.node.healthy').map((e) => [e.subject, Date.parse(e.at)]));
    return { status, pushes: accepted.slice(from), healthyAt, events };
  }

  /** Pairs of nodes of one zone whose pushes were in progress together (the later accepted before the earlier passed its gate). */
  function overlaps(pushes: Acceptance[], healthyAt: Map<string, number>, zones = ZONES): string[] {
    const out: string[] = [];
    for (const x of pushes) {
      for (const y of pushes) {
        if (x === y || zones[x.node] === null || zones[x.node] !== zones[y.node] || y.at < x.at) continue;
        if (y.at < healthyAt.get(x.node)!) out.push(`${x.node}+${y.node}`);
      }
    }
    return out;
  }

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-domains-');
    port = await freePort();
    const init = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`);
    if (init.status !== 0) throw new Error(init.stderr);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 0.2').replace('rolloutIntervalSec: 1', 'rolloutIntervalSec: 0.2').replace('timeoutSec: 5', 'timeoutSec: 2\n  maxBackoffSec: 1'));
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs = (logs + c).slice(-20_000)));
    await waitFor('the controller ready', () => nodewright('nodes', 'ls', '--json').status === 0);
    const signingKey = createPublicKey(ctl('signing.pub'));
    for (const [name, zone] of Object.entries(ZONES)) {
      // the zone label comes with the join token, as an operator would enroll a worker
      const t = nodewright('nodes', 'join-token', '--group', 'lab', ...(zone ? ['--labels', `zone=${zone}`] : []), '--json');
      if (t.status !== 0) throw new Error(t.stderr);
      const agentPort = await freePort();
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
      const j = await api('POST', '/v1/join', { token: JSON.parse(t.stdout).token, name, csr: csrPem, listen: `127.0.0.1:${agentPort}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } });
      const agent = new HonestAgent(name, 'lab', { keyPem, certPem: j.cert, caPem: ctl('ca.crt') }, signingKey, RECONCILE_MS);
      const accept = agent.accept.bind(agent);
      agent.accept = (text: string) => {
        const r = accept(text);
        if (r.status === 202) accepted.push({ node: name, generation: (r.body as { generation: number }).generation, at: Date.now() });
        return r;
      };
      await agent.listen(agentPort);
      agents.push(agent);
    }
    await waitFor('every node healthy', async () => {
      const { nodes } = await api('GET', '/v1/nodes');
      return nodes.length === 6 && nodes.every((n: { state: string }) => n.state === 'healthy');
    });
  }, 120_000);

  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      process.kill(controller.pid, 'SIGTERM');
      await exited;
    }
    for (const a of agents) await a.close();
  });

  it('a bad --failure-domain is refused before anything is sent, naming the flag', () => {
    writeFileSync(path.join(dir, 'desired-bad.yaml'), stringify(rolloutDesired('bad')));
    const r = nodewright('rollout', 'start', '--group', 'lab', '--desired', path.join(dir, 'desired-bad.yaml'), '--failure-domain', 'zone');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NW_USAGE/);
    expect(r.stderr).toMatch(/--failure-domain "zone"/);
    const m = nodewright('rollout', 'start', '--group', 'lab', '--desired', path.join(dir, 'desired-bad.yaml'), '--max-unavailable-per-domain', '0');
    expect(m.stderr).toMatch(/--max-unavailable-per-domain "0"/);
    expect(accepted).toEqual([]);
  });

  it('control, --failure-domain none: a wave of two takes two zone-a nodes together', async () => {
    const { status, pushes, healthyAt } = await rollout('none', ['--failure-domain', 'none']);
    expect(status).toMatchObject({ failureDomainSource: 'none', unmapped: 0, failureDomainNote: null });
    expect(status.nodes.filter((n) => n.wave === 0).map((n) => n.name)).toEqual(['a1', 'a2']);
    expect(pushes.map((p) => p.node).sort()).toEqual(Object.keys(ZONES).sort());
    // what the assertion of the next test catches: both accepted before either passed its gate
    expect(overlaps(pushes, healthyAt).filter((pair) => pair === 'a1+a2' || pair === 'a2+a1')).not.toEqual([]);
  }, 60_000);

  it('--failure-domain label:zone: no two nodes of one zone were ever in progress together, by the agents\' acceptance times', async () => {
    const { status, pushes, healthyAt } = await rollout('zones', ['--failure-domain', 'label:zone']);
    // rollout status --json: every node with its wave and failure domain; the unmapped one is its own
    expect(status).toMatchObject({ failureDomainSource: 'label:zone', unmapped: 1, waveCount: 3 });
    expect(status.failureDomainNote).toMatch(/1 of 6 node\(s\) not mapped by label:zone/);
    for (const n of status.nodes) {
      expect(Object.keys(n)).toEqual(expect.arrayContaining(['name', 'wave', 'failureDomain']));
      expect(n.failureDomain).toBe(ZONES[n.name] ?? `node:${n.name}`);
      expect(n.phase).toBe('healthy');
    }
    for (let w = 0; w < status.waveCount; w++) {
      const zones = status.nodes.filter((n) => n.wave === w).map((n) => n.failureDomain);
      expect(new Set(zones).size).toBe(zones.length);
    }
    // the agents' side: every node accepted the target once…
    expect(pushes.map((p) => p.node).sort()).toEqual(Object.keys(ZONES).sort());
    // …and the next node of a zone only after the previous one passed its gate
    expect(overlaps(pushes, healthyAt)).toEqual([]);
    for (const zone of ['a', 'b']) {
      const times = pushes.filter((p) => ZONES[p.node] === zone).map((p) => p.at).sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(RECONCILE_MS + MIN_HEALTHY_MS);
    }
    // the text status shows each wave's domains and the unmapped count
    const text = nodewright('rollout', 'status', status.id).stdout;
    expect(text).toContain('failure domains: label:zone, 1 unmapped');
    expect(text).toContain('wave 1: a1 (a), b1 (b)');
    expect(text).toContain('wave 2: a2 (a), b2 (b)');
    expect(text).toContain('wave 3: a3 (a), c1 (unmapped)');
  }, 60_000);

  it('a node that moves to another zone before its push is planned by its new zone: an event, and it waits for the node of its wave there', async () => {
    // c1 (unmapped, planned in wave 3 beside a3) is relabelled zone=a while wave 1 is in progress (the
    // soak between waves leaves seconds of margin before wave 3)
    let labelled: ReturnType<typeof nodewright> | null = null;
    const { status, pushes, healthyAt, events } = await rollout('moved', ['--failure-domain', 'label:zone', '--soak', '2s'], () => {
      labelled = nodewright('nodes', 'label', 'c1', 'zone=a');
    });
    expect(labelled!.status).toBe(0);
    expect(status.nodes.find((n) => n.name === 'c1')).toMatchObject({ wave: 2, failureDomain: 'a', phase: 'healthy' });
    expect(status.unmapped).toBe(1); // as planned: the count is the plan's
    expect(events.filter((e) => e.kind === 'rollout.node.domain-changed')).toEqual([
      expect.objectContaining({ subject: 'c1', data: expect.objectContaining({ from: 'node:c1', to: 'a' }) }),
    ]);
    // by the agents' acceptance times: a3 and c1 (now both zone a) were never in progress together
    expect(pushes.map((p) => p.node).sort()).toEqual(Object.keys(ZONES).sort());
    expect(overlaps(pushes, healthyAt, { ...ZONES, c1: 'a' })).toEqual([]);
    expect(nodewright('rollout', 'status', status.id).stdout).toContain('wave 3: a3 (a), c1 (a)');
  }, 60_000);
});
