// globalSetup of the controller lab: build and package, the host-side share (kubelet stand-in builds), three
// worker containers (real systemd 252, lab/worker/boot.sh) whose agents are replaced by agents
// ENROLLED through the controller: the PACKAGED controller (its bin, node 24, its better-sqlite3):
// `nodewright init` on the host, `controller run` as a child process, a join token per worker and `nodewright-agent join` inside each container, then the
// agent restarted over TLS. At the end: the controller stopped by pid, each container's journal
// saved next to the share, exactly the started containers stopped — even on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../../lab/ports.js';
import { ensureFreshPackage, packagedBin } from '../build.js';

export interface ControllerLabWorker {
  name: string;
  node: string;
  agentPort: number;
  kubeletPort: number;
  journal: string;
}

export interface ControllerLab {
  share: string;
  dir: string;
  port: number;
  url: string;
  operatorConfig: string;
  controllerLog: string;
  workers: ControllerLabWorker[];
  pollIntervalSec: number;
  /** Lifetime of the agent certificates the lab's controller signs (renewals happen during the run). */
  certValidSeconds: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    controllerLab: ControllerLab;
  }
}

const repo = path.resolve('.');
const PATH = process.env.PATH ?? '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const env = (name: string, extra: Record<string, string> = {}) => ({ PATH, LAB_NAME: name, LAB_MODE: 'hostusr', ...extra });

/** `input` goes to the command's stdin (secrets: never on a command line). */
export function execIn(name: string, cmd: string, allowFail = false, input?: string): string {
  const r = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['/bin/sh', '-c', cmd], { env: env(name), encoding: 'utf8', timeout: 120_000, input });
  if (r.status !== 0 && !allowFail) throw new Error(`in ${name}: \`${cmd.slice(0, 200)}\` exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

export function nodewright(operatorConfig: string, args: string[]): string {
  const r = spawnSync(packagedBin('controller'), args, { encoding: 'utf8', timeout: 120_000, env: { PATH, NODEWRIGHT_OPERATOR_CONFIG: operatorConfig } });
  if (r.status !== 0) throw new Error(`nodewright ${args.slice(0, 3).join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Start the controller as a child process; resolves when /readyz answers 200. */
export async function startController(dir: string, port: number, log: string): Promise<ChildProcess> {
  const child = spawn('bash', ['-c', `exec ${packagedBin('controller')} controller run --config ${path.join(dir, 'controller.yaml')} 2>>${log}`], { stdio: 'ignore', env: { PATH } });
  const ca = readFileSync(path.join(dir, 'ca.crt'));
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      https.get(`https://127.0.0.1:${port}/readyz`, { ca, agent: false, timeout: 1000 }, (res) => (res.resume(), resolve(res.statusCode === 200))).on('error', () => resolve(false));
    });
    if (ok) return child;
    if (child.exitCode !== null) throw new Error(`the controller exited ${child.exitCode}; log: ${log}`);
    if (Date.now() - t0 > 30_000) throw new Error(`the controller did not become ready in 30 s; log: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopController(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, signal);
  await exited;
}

// The agent config keys the lab worker needs besides what join writes.
const extraAgentYaml = (kubeletPort: number) => `stateDir: /var/lib/nodewright
kubelet:
  healthUrl: http://127.0.0.1:${kubeletPort}/healthz
  healthTimeoutSec: 6
  minHealthySec: 1
drift:
  debounceMs: 50
log:
  level: info
`;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) throw new Error('the controller lab needs root (systemd-nspawn): run the e2e tests as root');
  if (!existsSync('/usr/bin/systemd-nspawn')) throw new Error('systemd-nspawn is missing: run lab/install-deps.sh');
  ensureFreshPackage('controller');

  const share = mkdtempSync('/tmp/nw-e2e-controller-');
  const mk = spawnSync('bash', [path.join(repo, 'lab/worker/make-share.sh'), share], { encoding: 'utf8', timeout: 120_000 });
  if (mk.status !== 0) throw new Error(`lab/worker/make-share.sh failed: ${mk.stdout}${mk.stderr}`);
  const dir = path.join(share, 'controller');
  const controllerLog = path.join(share, 'controller.log');
  const started = new Map<string, string>();
  let controller: ChildProcess | null = null;
  const stop = async () => {
    await stopController(controller);
    for (const [name, journal] of started) {
      const j = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['journalctl', '-b', '--no-pager', '-o', 'short-precise'], { env: env(name), encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
      if (j.stdout) writeFileSync(journal, j.stdout);
      const s = spawnSync(path.join(repo, 'lab/systemd/stop.sh'), [], { env: env(name), encoding: 'utf8', timeout: 60_000 });
      if (s.status !== 0) process.stderr.write(`stop of ${name} failed: ${s.stdout}${s.stderr}\n`);
    }
    process.stderr.write(`controller lab: journals and controller.log kept in ${share}\n`);
    for (const f of readdirSync(share)) if (!/^journal-.*\.txt$|^controller\.log$/.test(f)) rmSync(path.join(share, f), { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const pollIntervalSec = 1;
    const certValidSeconds = 120;
    const init = spawnSync(packagedBin('controller'), ['init', '--dir', dir, '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 120_000, env: { PATH } });
    if (init.status !== 0) throw new Error(`nodewright init failed: ${init.stdout}${init.stderr}`);
    const cfg = path.join(dir, 'controller.yaml');
    // two-minute agent certificates: every agent renews about every 80 s while the suites run (renewal.test.ts watches)
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', `intervalSec: ${pollIntervalSec}`).replace('timeoutSec: 5', 'timeoutSec: 2\n  maxBackoffSec: 2') + `join:\n  certValidSeconds: ${certValidSeconds}\n`);
    controller = await startController(dir, port, controllerLog);
    const exe = readlinkSync(`/proc/${controller.pid}/exe`);
    if (exe !== path.join(path.dirname(packagedBin('controller')), '../node/bin/node')) throw new Error(`the controller runs on ${exe}, not on its package's node`);
    const operatorConfig = path.join(dir, 'operator.yaml');

    const workers: ControllerLabWorker[] = [];
    for (let i = 1; i <= 3; i++) {
      const name = `nwctl${process.pid}w${i}`;
      const kubeletPort = await freePort();
      const agentPort = await freePort();
      const journal = path.join(share, `journal-${name}.txt`);
      started.set(name, journal);
      const r = spawnSync('bash', [path.join(repo, 'lab/worker/boot.sh')], {
        env: env(name, { LAB_SHARE: share, KUBELET_PORT: String(kubeletPort), AGENT_PORT: String(agentPort), HEALTH_TIMEOUT_SEC: '6' }),
        encoding: 'utf8',
        timeout: 180_000,
      });
      if (r.status !== 0) throw new Error(`lab/worker/boot.sh failed for ${name}: ${r.stdout}${r.stderr}`);
      const node = `w${i}`;
      const t = JSON.parse(nodewright(operatorConfig, ['nodes', 'join-token', '--group', 'lab', '--labels', `slot=${i}`, '--ttl', '10m', '--json']));
      // Replace the lab's token-mode agent by one enrolled through the controller.
      execIn(name, 'systemctl stop nodewright-agent && rm -f /etc/nodewright/agent.yaml /etc/nodewright/controller.pub /etc/nodewright/token');
      // the token from stdin into the environment: never on a command line (`ps`)
      execIn(name, `NODEWRIGHT_JOIN_TOKEN="$(cat)" nodewright-agent join --controller https://127.0.0.1:${port} --ca-cert-hash ${t.caCertHash} --config-out /etc/nodewright/agent.yaml --listen 127.0.0.1:${agentPort} --name ${node}`, false, t.token);
      execIn(name, `cat >> /etc/nodewright/agent.yaml <<'YAML'\n${extraAgentYaml(kubeletPort)}YAML\nsystemctl start nodewright-agent && systemctl is-active nodewright-agent`);
      workers.push({ name, node, agentPort, kubeletPort, journal });
    }
    project.provide('controllerLab', { share, dir, port, url: `https://127.0.0.1:${port}`, operatorConfig, controllerLog, workers, pollIntervalSec, certValidSeconds });
    // Tests may kill and restart the controller; they record the running one's pid here for teardown.
    writeFileSync(path.join(share, 'controller.pid'), String(controller.pid));
  } catch (e) {
    await stop();
    throw e;
  }
  return async () => {
    // the test files may have restarted the controller: stop the pid they recorded last
    const pidFile = path.join(share, 'controller.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : controller?.pid;
    if (pid && pid !== controller?.pid) {
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100; i++) {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch {
        // gone
      }
    }
    await stop();
  };
}
