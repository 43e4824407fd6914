// globalSetup of the systemd lab: boot ONE real systemd 252 container (lab/systemd/boot.sh,
// hostusr mode) under a unique name with the agent PACKAGE installed by its install.sh (not
// started: the tests run its CLI), hand its coordinates to the tests, and stop exactly that
// instance (by the pids boot.sh recorded, via stop.sh) when the run ends — even on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureFreshPackage } from '../build.js';

export interface SystemdLab {
  name: string;
  /** Host directory holding the instance's pids and logs. */
  state: string;
  /** Host directory bind-mounted as the container's /etc. */
  etc: string;
  labDir: string;
  leader: number;
  /** The installed agent CLI inside the container (the package's bin, on its own node). */
  agentCli: string;
  /** dist/pkg, read-only inside the container, and the agent tarball's name there */
  pkgInside: string;
  agentTarball: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    systemdLab: SystemdLab;
  }
}

const labDir = path.resolve('lab/systemd');
export const PKG_INSIDE = '/opt/nodewright-lab/pkg';
export const LAB_WORKER_INSIDE = '/opt/nodewright-lab/worker';
const labEnv = (name: string) => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: name, LAB_MODE: 'hostusr' });

export default function setup(project: TestProject): () => void {
  if (process.getuid?.() !== 0) throw new Error('the systemd lab needs root (systemd-nspawn): run the e2e tests as root');
  for (const bin of ['/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/lib/systemd/systemd']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run lab/install-deps.sh (installs systemd-container)`);
  }
  ensureFreshPackage('systemd'); // the container installs the agent package
  const name = `nwunit${process.pid}`;
  const r = spawnSync(path.join(labDir, 'boot.sh'), bootArgs(), {
    env: labEnv(name),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const state = `/run/nodewright-lab/${name}`;
  const stop = () => {
    const s = spawnSync(path.join(labDir, 'stop.sh'), [], { env: labEnv(name), encoding: 'utf8', timeout: 60_000 });
    if (s.status !== 0) process.stderr.write(`systemd lab stop failed: ${s.stdout}${s.stderr}\n`);
  };
  const m = /LEADER_PID=(\d+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    stop();
    throw new Error(`lab/systemd/boot.sh failed (exit ${r.status}): ${r.stdout}${r.stderr}\n(see ${state}/console.log; run lab/install-deps.sh if systemd-container is missing)`);
  }
  const agentTarball = `nodewright-agent-${version()}-linux-x64.tar.gz`;
  const lab: SystemdLab = { name, state, etc: `${state}/etc`, labDir, leader: Number(m[1]), agentCli: '/usr/local/bin/nodewright-agent', pkgInside: PKG_INSIDE, agentTarball };
  execFileSync(path.join(labDir, 'exec.sh'), ['systemctl', 'is-system-running'], { env: labEnv(name), encoding: 'utf8' });
  const inst = spawnSync(path.join(labDir, 'exec.sh'), ['bash', `${LAB_WORKER_INSIDE}/install-agent.sh`, `${PKG_INSIDE}/${agentTarball}`, '--no-start'], { env: labEnv(name), encoding: 'utf8', timeout: 120_000 });
  if (inst.status !== 0) {
    stop();
    throw new Error(`installing the agent package in ${name} failed (exit ${inst.status}): ${inst.stdout}${inst.stderr}`);
  }
  project.provide('systemdLab', lab);
  return stop;
}

export const version = (): string => (JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')) as { version: string }).version;

/** The package dir and the lab fixtures, read-only: nothing else of the checkout is inside. */
export const bootArgs = (): string[] => [`--bind-ro=${path.resolve('dist/pkg')}:${PKG_INSIDE}`, `--bind-ro=${path.resolve('lab/worker')}:${LAB_WORKER_INSIDE}`];
