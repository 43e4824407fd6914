// A real controller daemon (`nodewright controller run`: dist/ or a package's bin) with honest
// simulated agents (bench/sim-honest.ts) enrolled through the join API, in a directory the caller
// owns: for tests of what the controller decides, the dashboard's screenshots and bench P10.
// Everything started here is stopped by pid / closed in stop(). `hypervisors` places nodes on
// hypervisors without a Nova (the controller stopped, the store written, the controller started
// again), for pages grouped by failure domain.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HonestAgent } from '../../bench/sim-honest.js';
import { openSqliteStore } from '../../controller/store/sqlite.js';
import { requestJson } from '../../host/http-json.js';
import { createKeyAndCsr } from '../../pki/index.js';
import { freePort } from '../ports.js';

/** Poll until `f` is true; on timeout the error carries the tail of `log()`. */
async function waitUntil(what: string, f: () => boolean | Promise<boolean>, ms: number, log: () => string): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; controller log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface SimFleet {
  dir: string;
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  /** The fleet CA's certificate (PEM). */
  caPem: string;
  /** The operator client certificate and key (PEM) `nodewright` uses. */
  operator: { certPem: string; keyPem: string };
  /** The simulated agent of each node (status overrides: HonestAgent.override). */
  agents: Map<string, HonestAgent>;
  /** Nodes in the order their agents accepted a push (one entry per accepted push). */
  pushes: string[];
  nodewright(...args: string[]): SpawnSyncReturns<string>;
  api(method: string, route: string): Promise<{ status: number; text: string; json: any }>;
  waitFor(what: string, ok: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  /** The controller's stderr (its log), the last 20,000 characters. */
  logs(): string;
  stop(): Promise<void>;
}

export interface SimFleetOptions {
  nodes: string[];
  group?: string;
  /** YAML appended to controller.yaml (e.g. `gates:` or `ceph:`). */
  extraConfig?: string;
  reconcileMs?: number;
  /** node → hypervisor (Nova compute host) it runs on. */
  hypervisors?: Record<string, string>;
  /** Poll interval of every node (default 0.2 s), and the longest back-off of a failing one (default 1 s). */
  pollIntervalSec?: number;
  maxBackoffSec?: number;
  /** Runs after `nodewright init`, before the controller first starts: e.g. node records put in the store (stateDir). */
  beforeStart?: (stateDir: string) => Promise<void>;
}

/** `cli`: the `nodewright` to run (node dist/controller/cli.js, a package's bin); `dir`: an empty directory the caller removes. */
export async function startSimFleetIn(dir: string, cli: string[], o: SimFleetOptions): Promise<SimFleet> {
  const group = o.group ?? 'lab';
  const port = await freePort();
  let logs = '';
  let controller: ChildProcess | null = null;
  const agents = new Map<string, HonestAgent>();
  const pushes: string[] = [];
  const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const nodewright = (...args: string[]) =>
    spawnSync(cli[0], [...cli.slice(1), ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') } });
  const api = async (method: string, route: string) => {
    const r = await requestJson(`https://127.0.0.1:${port}${route}`, { method, timeoutMs: 10_000, ca: ctl('ca.crt'), cert: ctl('operator.crt'), key: ctl('operator.key') });
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r as { status: number; text: string; json: any };
  };
  const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => waitUntil(what, ok, ms, () => logs);
  const stopController = async () => {
    if (controller?.pid && controller.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      process.kill(controller.pid, 'SIGTERM');
      await exited;
    }
  };
  const cfg = path.join(dir, 'ctl', 'controller.yaml');
  const startController = async () => {
    controller = spawn(cli[0], [...cli.slice(1), 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs = (logs + c).slice(-20_000)));
    await waitFor('the controller ready', () => api('GET', '/readyz').then(() => true, () => false));
  };
  const allHealthy = () =>
    waitFor('every node healthy', async () => {
      const { nodes } = (await api('GET', '/v1/nodes')).json as { nodes: { name: string; state: string }[] };
      const healthy = new Set(nodes.filter((n) => n.state === 'healthy').map((n) => n.name));
      return o.nodes.every((n) => healthy.has(n));
    });
  const stop = async () => {
    await stopController();
    for (const a of agents.values()) await a.close();
  };
  try {
    const init = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`);
    if (init.status !== 0) throw new Error(init.stderr);
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('intervalSec: 10', `intervalSec: ${o.pollIntervalSec ?? 0.2}`).replace('rolloutIntervalSec: 1', 'rolloutIntervalSec: 0.2').replace('timeoutSec: 5', `timeoutSec: 2\n  maxBackoffSec: ${o.maxBackoffSec ?? 1}`) +
        // every agent joins from 127.0.0.1: a burst as large as the fleet (the default allows 10)
        (o.nodes.length > 10 && !o.extraConfig?.includes('server:') ? `server:\n  joinBurst: ${o.nodes.length}\n` : '') +
        (o.extraConfig ?? ''),
    );
    await o.beforeStart?.(path.join(dir, 'ctl', 'state'));
    await startController();
    const signingKey = createPublicKey(ctl('signing.pub'));
    for (const name of o.nodes) {
      const t = nodewright('nodes', 'join-token', '--group', group, '--json');
      if (t.status !== 0) throw new Error(t.stderr);
      const agentPort = await freePort();
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
      const joined = await requestJson(`https://127.0.0.1:${port}/v1/join`, {
        method: 'POST', timeoutMs: 10_000, ca: ctl('ca.crt'),
        body: JSON.stringify({ token: JSON.parse(t.stdout).token, name, csr: csrPem, listen: `127.0.0.1:${agentPort}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } }),
      });
      if (joined.status !== 200) throw new Error(`POST /v1/join for ${name} answered ${joined.status}: ${joined.text.slice(0, 300)}`);
      const j = joined.json as { cert: string };
      const agent = new HonestAgent(name, group, { keyPem, certPem: j.cert, caPem: ctl('ca.crt') }, signingKey, o.reconcileMs ?? 200);
      const accept = agent.accept.bind(agent);
      agent.accept = (text: string) => {
        const r = accept(text);
        if (r.status === 202) pushes.push(name);
        return r;
      };
      await agent.listen(agentPort);
      agents.set(name, agent);
    }
    await allHealthy();
    if (o.hypervisors) {
      // the store is the controller's alone while it runs (opening it takes the epoch): stop, write, start
      await stopController();
      const store = openSqliteStore({ stateDir: path.join(dir, 'ctl', 'state') });
      try {
        await store.setNodeHypervisors(Object.entries(o.hypervisors).map(([name, hypervisor]) => ({ name, to: { hypervisor, rule: 'name' as const } })), () => null);
      } finally {
        await store.close();
      }
      await startController();
      await allHealthy();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, port, url: `https://127.0.0.1:${port}`, caPem: ctl('ca.crt'), operator: { certPem: ctl('operator.crt'), keyPem: ctl('operator.key') }, agents, pushes, nodewright, api, waitFor, logs: () => logs, stop };
}
