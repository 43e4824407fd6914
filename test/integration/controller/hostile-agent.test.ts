// A broken or hostile agent against the real controller daemon (`nodewright controller run`): the
// node enrolls for real (`nodewright-agent join`), then its "agent" is a TLS server in this test
// holding the certificate the fleet CA issued for it, answering what no agent should: a status of
// another shape, 5 MiB bodies, a 1-byte-per-20-ms trickle, a generation the controller never signed,
// another valid fleet certificate for the same name, and the old certificate of a removed and
// re-enrolled node. The controller stays up, its memory stays
// flat, the node is degraded or unreachable with a reason naming what is wrong, never healthy, and a
// rollout still signs its next generation. Last, an agent that takes a push and never answers it
// does not hold up the controller's stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sampleStatus } from '../../../bench/sim-agents.js';
import { freePort } from '../../../lab/ports.js';
import { createKeyAndCsr, signCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, CONTROLLER_CLI, KEYRING, requireBuild, waitUntil } from '../agent/fixture.js';

const INTERVAL_S = 0.2;
const TIMEOUT_MS = 1000;
const MiB = 1024 * 1024;

type Answer = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('a hostile agent cannot crash, flood, stall or fool the controller', () => {
  let dir: string;
  let port: number;
  let agentPort: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  let server: https.Server | null = null;
  let answer: Answer = (_req, res) => res.end('{}');
  /** Per request to the stand-in agent: when it came, when its connection closed, bytes written. */
  const requests: { path: string; at: number; closedAt?: number; written: number }[] = [];
  const pushed: number[] = [];
  let holdPushes = false;
  const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const nodewright = (...args: string[]) =>
    spawnSync('node', [CONTROLLER_CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') } });

  /** The controller's view of w1, over its API with the operator certificate. */
  const w1View = () =>
    new Promise<{ state: string; reason: string | null; generation: number | null }>((resolve, reject) => {
      https
        .get(`https://127.0.0.1:${port}/v1/nodes/w1`, { agent: false, ca: ctl('ca.crt'), cert: ctl('operator.crt'), key: ctl('operator.key') }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(JSON.parse(t)));
        })
        .on('error', reject);
    });

  type View = Awaited<ReturnType<typeof w1View>>;
  /** w1 as the controller shows it, once `ok` holds. */
  async function w1When(what: string, ok: (n: View) => unknown): Promise<View> {
    let n: View | null = null;
    await waitUntil(what, async () => Boolean((n = await w1View().catch(() => null)) && ok(n)), 20_000, () => logs);
    return n!;
  }
  const waitFor = (what: string, ok: () => boolean) => waitUntil(what, ok, 20_000, () => logs);

  async function serve(tls: { cert: string; key: string }): Promise<void> {
    await stopServing();
    server = https.createServer({ ...tls, ca: ctl('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const r = { path: req.url ?? '', at: Date.now(), written: 0 };
      requests.push(r);
      res.on('close', () => (r.closedAt = Date.now()));
      const write = res.write.bind(res);
      res.write = ((chunk: unknown, ...rest: unknown[]) => ((r.written += Buffer.byteLength(chunk as Buffer)), write(chunk as Buffer, ...(rest as [])))) as typeof res.write;
      if (req.method === 'POST' && req.url?.startsWith('/v1/desired')) {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const generation = JSON.parse(body).desired.generation as number;
          pushed.push(generation);
          if (holdPushes) return; // taken, never answered
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, generation, changed: true }));
        });
        return;
      }
      answer(req, res);
    });
    await new Promise<void>((r) => server!.listen(agentPort, '127.0.0.1', r));
  }

  async function stopServing(): Promise<void> {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = null;
  }

  /** Switch what the agent answers; pooled connections are closed so the next poll sees it at once. */
  const answering = (a: Answer) => {
    answer = a;
    server?.closeAllConnections();
    requests.length = 0;
  };
  const json = (body: unknown): Answer => (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const status = (generation: number | null) => {
    const s = sampleStatus('w1');
    return generation === null
      ? { ...s, desired: null, lastReconcile: null }
      : { ...s, desired: { ...s.desired!, generation }, lastReconcile: { ...s.lastReconcile!, generation } };
  };
  /** `nodewright-agent join` as w1 (files into dir/SUB): the key and certificate the fleet CA issued. */
  const join = (sub: string) => {
    const token = JSON.parse(nodewright('nodes', 'join-token', '--group', 'lab', '--json').stdout);
    const j = spawnSync('node', [AGENT_CLI, 'join', '--controller', `https://127.0.0.1:${port}`, '--token', token.token, '--ca-cert-hash', token.caCertHash, '--config-out', path.join(dir, sub, 'agent.yaml'), '--listen', `127.0.0.1:${agentPort}`, '--name', 'w1'], { encoding: 'utf8', timeout: 60_000 });
    if (j.status !== 0) throw new Error(j.stderr);
    return { cert: readFileSync(path.join(dir, sub, 'agent.crt'), 'utf8'), key: readFileSync(path.join(dir, sub, 'agent.key'), 'utf8') };
  };
  let enrolled: { cert: string; key: string };
  const alive = () => controller !== null && controller.exitCode === null && controller.signalCode === null;

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-hostile-');
    port = await freePort();
    agentPort = await freePort();
    const init = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`);
    if (init.status !== 0) throw new Error(init.stderr);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', `intervalSec: ${INTERVAL_S}`).replace('rolloutIntervalSec: 1', `rolloutIntervalSec: ${INTERVAL_S}`).replace('timeoutSec: 5', `timeoutSec: ${TIMEOUT_MS / 1000}\n  maxBackoffSec: 1`));
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs = (logs + c).slice(-20_000)));
    await waitFor('the controller ready', () => nodewright('nodes', 'ls', '--json').status === 0);
    enrolled = join('w1');
    await serve(enrolled);
    answering(json(status(null)));
    await w1When('w1 healthy', (n) => n.state === 'healthy');
  });

  afterAll(async () => {
    await stopServing();
    if (controller?.pid && alive()) {
      process.kill(controller.pid, 'SIGTERM');
      await new Promise((r) => controller!.once('exit', r));
    }
  });

  it('a status of another shape: degraded, the reason names the field; the controller stays up', async () => {
    answering(json({ ...status(null), steps: null }));
    expect(await w1When('w1 degraded', (n) => n.state === 'degraded'))
      .toMatchObject({ reason: 'status invalid: /steps: Expected array' });
    answering((_req, res) => res.writeHead(200).end('{"steps":null}'));
    expect((await w1When('another reason', (n) => n.reason !== 'status invalid: /steps: Expected array')).reason).toMatch(/^status invalid: \/agent: /);
    answering((_req, res) => res.writeHead(200).end('\x1b[31m not json'));
    expect((await w1When('not JSON', (n) => n.reason === 'status invalid: not JSON')).state).toBe('degraded');
    expect(alive()).toBe(true);
    answering(json(status(null)));
    await w1When('w1 healthy again', (n) => n.state === 'healthy');
  });

  it('5 MiB answers are cut at the cap; the controller\'s memory stays flat', async () => {
    const before = rssMiB(controller!.pid!);
    answering((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = 5 * MiB;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    expect(await w1When('w1 cut off', (n) => n.state === 'unreachable'))
      .toMatchObject({ reason: `the agent's answer is larger than ${256 * 1024} bytes: aborted` });
    await new Promise((r) => setTimeout(r, 3000)); // polls keep coming (backoff ≤ 1 s)
    const cut = requests.filter((r) => r.path === '/v1/status');
    expect(cut.length).toBeGreaterThanOrEqual(3);
    // every answer was abandoned long before 5 MiB (what the kernel's socket buffers took in aside)
    for (const r of cut.filter((x) => x.closedAt)) expect(r.written).toBeLessThan(5 * MiB);
    const after = rssMiB(controller!.pid!);
    process.stderr.write(`hostile 5 MiB: ${cut.length} polls, controller RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB\n`);
    expect(after - before).toBeLessThan(40);
    expect(alive()).toBe(true);
  });

  it('a trickle of 1 byte per 20 ms is cut at the deadline', async () => {
    answering((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 20);
      res.on('close', () => clearInterval(t));
    });
    expect(await w1When('w1 timed out', (n) => n.state === 'unreachable' && n.reason?.startsWith('no complete')))
      .toMatchObject({ reason: `no complete answer within ${TIMEOUT_MS} ms` });
    await waitFor('three trickles closed', () => requests.filter((r) => r.closedAt).length >= 3);
    for (const r of requests.filter((x) => x.closedAt)) {
      expect(r.closedAt! - r.at).toBeLessThan(TIMEOUT_MS + 500);
      expect(r.written).toBeGreaterThan(10); // the trickle did flow: only the total deadline stops it
    }
    expect(alive()).toBe(true);
  });

  it('another valid fleet certificate for the same name is refused: never healthy', async () => {
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'w1' });
    const { certPem } = await signCsr({ ca: { certPem: ctl('ca.crt'), keyPem: ctl('ca.key') }, csrPem, role: 'agent', name: 'w1' });
    await serve({ cert: certPem, key: keyPem });
    answering(json(status(null)));
    const n = await w1When('w1 refused', (v) => v.reason?.includes('not the one enrolled'));
    expect(n.state).toBe('unreachable');
    expect(n.reason).toMatch(/^the agent's certificate \(sha256 [0-9a-f]{16}…\) is not the one enrolled for w1/);
    const seen = requests.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await w1View()).state).toBe('unreachable');
    expect(requests.length).toBe(seen); // the TLS handshake fails: no request ever reaches the impostor
    await serve(enrolled);
    await w1When('w1 healthy with its own certificate', (n) => n.state === 'healthy');
  });

  it('a removed and re-enrolled node: its old certificate is refused, the new one pinned', async () => {
    expect(nodewright('nodes', 'remove', 'w1').status).toBe(0);
    // same name, same address: only the enrolled certificate changes; the old process keeps answering
    enrolled = join('w1-again');
    const n = await w1When('the old certificate refused', (v) => v.reason?.includes('not the one enrolled'));
    expect(n.state).toBe('unreachable');
    await serve(enrolled);
    answering(json(status(null)));
    await w1When('w1 healthy with its new certificate', (v) => v.state === 'healthy');
  });

  it('generation 2^53−1: degraded, never stored; the next rollout still signs generation 1', async () => {
    answering(json(status(2 ** 53 - 1)));
    expect(await w1When('w1 degraded', (n) => n.state === 'degraded'))
      .toMatchObject({ generation: null, reason: `reports generation ${2 ** 53 - 1} the controller never signed (highest signed 0)` });
    writeFileSync(path.join(dir, 'keyring'), KEYRING, { mode: 0o600 });
    writeFileSync(path.join(dir, 'desired.yaml'), stringify({ ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyringFile: 'keyring' } }));
    const r = nodewright('rollout', 'start', '--nodes', 'w1', '--desired', path.join(dir, 'desired.yaml'), '--min-healthy', '1s', '--gate-timeout', '30s', '--json');
    expect(r.stderr).toBe('');
    const id = JSON.parse(r.stdout).id as string;
    await waitFor('the push of generation 1', () => pushed.includes(1));
    expect(pushed).toEqual([1]);
    expect(JSON.parse(nodewright('rollout', 'status', id, '--json').stdout).nodes[0]).toMatchObject({ name: 'w1', targetGeneration: 1 });
    // the agent now holds what it was sent: the node is believed again
    answering(json(status(1)));
    await w1When('w1 healthy at generation 1', (n) => n.state === 'healthy' && n.generation === 1);
    expect(alive()).toBe(true);
  });

  it('a push and a poll that never answer: SIGTERM still stops the controller within 2 s', async () => {
    holdPushes = true;
    answering(() => undefined);
    // started once the previous test's rollout has completed (it holds w1 until then)
    let r!: ReturnType<typeof nodewright>;
    await waitFor('a second rollout started', () => (r = nodewright('rollout', 'start', '--nodes', 'w1', '--desired', path.join(dir, 'desired.yaml'), '--min-healthy', '1s', '--gate-timeout', '30s', '--json')).status === 0);
    expect(r.stderr).toBe('');
    await waitFor('the push of generation 2 on the wire', () => pushed.includes(2));
    const t0 = Date.now();
    const exited = new Promise<number | null>((res) => controller!.once('exit', (code) => res(code)));
    process.kill(controller!.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
