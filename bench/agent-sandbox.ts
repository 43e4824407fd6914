// Shared by the agent benchmarks (P1–P3): a sandbox --root worker with keys, token and config,
// the agent started as a real process (on a runtime of bench/agent-runtime.ts), and a signed
// keyring-only desired state.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKeys, loadPrivateKey, signBundle } from '../protocol/bundle.js';
import { sandboxEnv, type AgentRuntime } from './agent-runtime.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const NOTIFY_LISTENER = path.resolve(here, '../../lab/worker/notify-listener.py');
export const KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

export interface BenchSandbox {
  dir: string;
  root: string;
  config: string;
  token: string;
  port: number;
  bundle: unknown;
  /** Where the unit's /var/cache/… directories (NODE_COMPILE_CACHE) go; shared by sandboxes that want a warm cache. */
  cacheDir: string;
  cleanup(): void;
}

export async function benchSandbox(extraYaml = '', o: { cacheDir?: string } = {}): Promise<BenchSandbox> {
  const dir = mkdtempSync('/tmp/nw-bench-');
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const keys = generateSigningKeys();
  writeFileSync(path.join(dir, 'controller.pub'), keys.publicKeyPem);
  const token = 'bench-token-' + Math.random().toString(36).slice(2).padEnd(20, 'x');
  writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\ntokenFile: ${dir}/token\npublicKeyFile: ${dir}/controller.pub\nroot: ${root}\nstateDir: /var/lib/nodewright\nlog:\n  level: warn\n${extraYaml}`,
  );
  const bundle = signBundle(
    { schema: 1, generation: 1, ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: KEYRING } },
    loadPrivateKey(keys.privateKeyPem),
  );
  return { dir, root, config, token, port, bundle, cacheDir: o.cacheDir ?? path.join(dir, 'var/cache'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** As the runtime's unit runs it (its Environment=, e.g. NODE_OPTIONS), with `env` on top. */
export function startAgent(sb: BenchSandbox, rt: AgentRuntime, env: Record<string, string> = {}): ChildProcess {
  const [cmd, ...args] = rt.command;
  return spawn(cmd, [...args, 'run', '--config', sb.config], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...sandboxEnv(rt, sb.cacheDir), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The baseline process: the same node binary, bare. */
export const startBareNode = (rt: AgentRuntime, code: string, env: Record<string, string> = {}, stdio: 'ignore' | 'inherit' = 'ignore'): ChildProcess =>
  spawn(rt.node, ['-e', code], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio });

export async function waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (Date.now() - t0 > timeoutMs) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function postBundle(sb: BenchSandbox): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${sb.port}/v1/desired?wait=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sb.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(sb.bundle),
  });
  if (r.status !== 200) throw new Error(`POST /v1/desired answered ${r.status}: ${await r.text()}`);
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
