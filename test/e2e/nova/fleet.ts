// A real controller on the Nova lab and a fleet of honest simulated agents, for the failure-domain
// e2e (and the rollout assertions that build on it): the packaged `nodewright` (`init` +
// `controller run`) with controller.yaml naming the lab cloud, its operator API over mutual TLS,
// and agents (bench/sim-honest.ts: their own TLS server, the agent's acceptance rules, a status
// whose facts say which Nova server they are) enrolled through the real join.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { requestJson } from '../../../host/http-json.js';
import { freePort } from '../../../lab/ports.js';
import type { NovaLab } from '../../../lab/nova/lab.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { cliBin, cliEnv, nodewright, type CliEnv } from './cli.js';

export interface LabController {
  e: CliEnv;
  dir: string;
  port: number;
  logs: () => string;
  /** One operator API call: its JSON (else its text); throws unless 2xx. */
  api(method: string, route: string, body?: unknown): Promise<any>;
  /** The packaged CLI with this controller's operator.yaml. */
  nw(...args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }>;
  /** `nodewright <args> --json`, parsed (throws on a non-zero exit). */
  nwJson(...args: string[]): Promise<any>;
  stop(): Promise<number | undefined>;
}

/** `init` + `controller run` with `openstack: {cloud: lab}` and `extraYaml`; resolves when /readyz answers. */
export async function startLabController(lab: NovaLab, extraYaml = ''): Promise<LabController> {
  const e = cliEnv(lab);
  const dir = path.join(e.dir, 'ctl');
  const port = await freePort();
  const init = spawnSync(cliBin, ['init', '--dir', dir, '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', env: e.env, timeout: 60_000 });
  if (init.status !== 0) throw new Error(`nodewright init failed: ${init.stderr}`);
  const file = path.join(dir, 'controller.yaml');
  const yaml = readFileSync(file, 'utf8').replace(/^ {2}intervalSec: 10 .*$/m, '  intervalSec: 1');
  // every simulated agent joins from 127.0.0.1: the per-address join limit would refuse them
  writeFileSync(file, `${yaml}server:\n  joinBurst: 100\nopenstack:\n  cloud: lab\n${extraYaml}`, { mode: 0o600 });
  let logs = '';
  const daemon: ResultPromise = execa(cliBin, ['controller', 'run', '--config', file], { env: e.env, reject: false, buffer: false });
  daemon.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  daemon.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  const f = (n: string) => readFileSync(path.join(dir, n), 'utf8');
  const [ca, cert, key] = [f('ca.crt'), f('operator.crt'), f('operator.key')];
  const url = `https://127.0.0.1:${port}`;
  const api = async (method: string, route: string, body?: unknown) => {
    const r = await requestJson(`${url}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000, ca, cert, key });
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r.json ?? r.text;
  };
  const t0 = Date.now();
  for (;;) {
    const ok = await requestJson(`${url}/readyz`, { method: 'GET', timeoutMs: 2000, ca }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() - t0 > 60_000 || daemon.exitCode !== null) throw new Error(`the controller did not get ready: ${logs}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const env = { NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'operator.yaml') };
  const nw = (...args: string[]) => nodewright(e, args, env);
  return {
    e, dir, port, api, nw,
    logs: () => logs,
    nwJson: async (...args: string[]) => {
      const r = await nw(...args, '--json');
      if (r.code !== 0) throw new Error(`nodewright ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    stop: async () => {
      if (!daemon.pid || daemon.exitCode !== null) return daemon.exitCode ?? undefined;
      process.kill(daemon.pid, 'SIGTERM'); // exactly the process we started
      return (await daemon).exitCode;
    },
  };
}

export interface SimWorker {
  name: string;
  /** facts sent with the join… */
  joinFacts?: { instanceUuid?: string };
  /** …and those its status reports from the first poll on (`agent.facts` changes them later) */
  statusFacts?: { instanceUuid?: string };
}

/** Enroll each worker through the real join (a fresh key and CSR, a one-time token) and start its honest agent. */
export async function enrollSimAgents(c: LabController, workers: SimWorker[], group = 'workers', reconcileMs = 200): Promise<Map<string, HonestAgent>> {
  const caPem = readFileSync(path.join(c.dir, 'ca.crt'), 'utf8');
  const signing = createPublicKey(readFileSync(path.join(c.dir, 'signing.pub'), 'utf8'));
  const out = new Map<string, HonestAgent>();
  for (const w of workers) {
    const port = await freePort();
    const { token } = await c.api('POST', '/v1/join-tokens', { group });
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: w.name });
    const facts = { hostname: w.name, addresses: ['127.0.0.1'], runtime: 'rkt', ...(w.joinFacts ?? {}) };
    const r = await c.api('POST', '/v1/join', { token, name: w.name, csr: csrPem, listen: `127.0.0.1:${port}`, facts });
    const agent = new HonestAgent(w.name, group, { keyPem, certPem: r.cert as string, caPem }, signing, reconcileMs);
    agent.facts = { ...(w.statusFacts ?? {}) };
    await agent.listen(port);
    out.set(w.name, agent);
  }
  return out;
}

/** Wait until `ok()` holds (polled every 250 ms). */
export async function eventually<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000, log?: () => string): Promise<T> {
  const t0 = Date.now();
  let last: T | undefined;
  for (;;) {
    last = await get();
    if (ok(last)) return last;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last).slice(0, 2000)}${log ? `\n${log().slice(-3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
