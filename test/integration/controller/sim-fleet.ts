// A real controller daemon (`nodewright controller run`, from dist/) with honest simulated agents
// (bench/sim-honest.ts) enrolled through the join API: for tests of what the controller decides.
// Everything started here is stopped by pid / closed in stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { requestJson } from '../../../host/http-json.js';
import { freePort } from '../../../lab/ports.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild, waitUntil } from '../agent/fixture.js';

export interface SimFleet {
  dir: string;
  port: number;
  /** The simulated agents by node name (their knobs, e.g. failWith). */
  agents: Map<string, HonestAgent>;
  /** Nodes in the order their agents accepted a push (one entry per accepted push). */
  pushes: string[];
  nodewright(...args: string[]): ReturnType<typeof spawnSync<string>>;
  api(method: string, route: string): Promise<{ status: number; text: string; json: any }>;
  waitFor(what: string, ok: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  /** The controller's stderr (its log), the last 20,000 characters. */
  logs(): string;
  stop(): Promise<void>;
}

/** `extraConfig`: YAML appended to controller.yaml (e.g. `gates:` or `ceph:`). */
export async function startSimFleet(o: { nodes: string[]; group?: string; extraConfig?: string; reconcileMs?: number }): Promise<SimFleet> {
  requireBuild();
  const group = o.group ?? 'lab';
  const dir = tempDir('nw-simfleet-');
  const port = await freePort();
  let logs = '';
  let controller: ChildProcess | null = null;
  const agents: HonestAgent[] = [];
  const pushes: string[] = [];
  const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const nodewright = (...args: string[]) =>
    spawnSync('node', [CONTROLLER_CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') } });
  const api = async (method: string, route: string) => {
    const r = await requestJson(`https://127.0.0.1:${port}${route}`, { method, timeoutMs: 10_000, ca: ctl('ca.crt'), cert: ctl('operator.crt'), key: ctl('operator.key') });
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r as { status: number; text: string; json: any };
  };
  const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) => waitUntil(what, ok, ms, () => logs);
  const stop = async () => {
    if (controller?.pid && controller.exitCode === null && controller.signalCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r));
      process.kill(controller.pid, 'SIGTERM');
      await exited;
    }
    for (const a of agents) await a.close();
  };
  try {
    const init = nodewright('init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`);
    if (init.status !== 0) throw new Error(init.stderr);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 0.2').replace('rolloutIntervalSec: 1', 'rolloutIntervalSec: 0.2').replace('timeoutSec: 5', 'timeoutSec: 2\n  maxBackoffSec: 1') +
        (o.extraConfig ?? ''),
    );
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    controller.stderr!.on('data', (c) => (logs = (logs + c).slice(-20_000)));
    await waitFor('the controller ready', () => nodewright('nodes', 'ls', '--json').status === 0);
    const signingKey = createPublicKey(ctl('signing.pub'));
    for (const name of o.nodes) {
      const t = nodewright('nodes', 'join-token', '--group', group, '--json');
      if (t.status !== 0) throw new Error(t.stderr);
      const agentPort = await freePort();
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
      const j = (await requestJson(`https://127.0.0.1:${port}/v1/join`, {
        method: 'POST', timeoutMs: 10_000, ca: ctl('ca.crt'),
        body: JSON.stringify({ token: JSON.parse(t.stdout).token, name, csr: csrPem, listen: `127.0.0.1:${agentPort}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } }),
      })).json as { cert: string };
      const agent = new HonestAgent(name, group, { keyPem, certPem: j.cert, caPem: ctl('ca.crt') }, signingKey, o.reconcileMs ?? 200);
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
      return nodes.length === o.nodes.length && nodes.every((n) => n.state === 'healthy');
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, port, agents: new Map(agents.map((a) => [a.name, a])), pushes, nodewright, api, waitFor, logs: () => logs, stop };
}
