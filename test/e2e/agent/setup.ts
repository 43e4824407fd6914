// globalSetup of the agent lab: build, make the host-side share (signing keys, token, kubelet
// stand-in builds), boot ONE worker container (real systemd 252) with the agent installed as a
// real Type=notify service, hand its coordinates to the tests; at the end save the container's
// journal next to the share and stop exactly that instance — even on failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

export interface AgentLab {
  name: string;
  share: string;
  kubeletPort: number;
  agentPort: number;
  token: string;
  watchdogSec: number;
  journal: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    agentLab: AgentLab;
  }
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

const repo = path.resolve('.');
const env = (name: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LAB_NAME: name,
  LAB_MODE: 'hostusr',
  ...extra,
});

export default async function setup(project: TestProject): Promise<() => void> {
  if (process.getuid?.() !== 0) throw new Error('the agent lab needs root (systemd-nspawn): run the e2e tests as root');
  for (const bin of ['/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/lib/systemd/systemd', '/usr/bin/systemd-notify', '/usr/bin/unshare']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run lab/install-deps.sh (installs systemd-container)`);
  }
  // The container runs the built agent from the bind-mounted tree.
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
  if (!existsSync(path.join(repo, 'dist/agent/cli.js'))) throw new Error(`build failed: ${b.stdout}${b.stderr}`);

  const share = mkdtempSync('/tmp/nw-e2e-agent-');
  const mk = spawnSync('bash', [path.join(repo, 'lab/worker/make-share.sh'), share], { encoding: 'utf8', timeout: 60_000 });
  if (mk.status !== 0) throw new Error(`lab/worker/make-share.sh failed: ${mk.stdout}${mk.stderr}`);

  const name = `nwagent${process.pid}`;
  const kubeletPort = await freePort();
  const agentPort = await freePort();
  const watchdogSec = 3;
  const journal = path.join(share, 'journal.txt');
  const stop = () => {
    const j = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['journalctl', '-b', '--no-pager', '-o', 'short-precise'], { env: env(name), encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
    if (j.stdout) writeFileSync(journal, j.stdout);
    process.stderr.write(`agent lab ${name}: container journal saved to ${journal}\n`);
    const s = spawnSync(path.join(repo, 'lab/systemd/stop.sh'), [], { env: env(name), encoding: 'utf8', timeout: 60_000 });
    if (s.status !== 0) process.stderr.write(`agent lab stop failed: ${s.stdout}${s.stderr}\n`);
  };
  const r = spawnSync('bash', [path.join(repo, 'lab/worker/boot.sh')], {
    env: env(name, {
      LAB_SHARE: share,
      KUBELET_PORT: String(kubeletPort),
      AGENT_PORT: String(agentPort),
      WATCHDOG_SEC: String(watchdogSec),
      HEALTH_TIMEOUT_SEC: '6',
    }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    stop();
    throw new Error(`lab/worker/boot.sh failed (exit ${r.status}): ${r.stdout}${r.stderr}\n(journal: ${journal}; run lab/install-deps.sh if systemd-container is missing)`);
  }
  project.provide('agentLab', { name, share, kubeletPort, agentPort, token: readFileSync(path.join(share, 'token'), 'utf8').trim(), watchdogSec, journal });
  return stop;
}
