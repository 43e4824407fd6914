// globalSetup of the systemd lab: boot ONE real systemd 252 container (lab/systemd/boot.sh,
// hostusr mode) under a unique name, hand its coordinates to the tests, and stop exactly that
// instance (by the pids boot.sh recorded, via stop.sh) when the run ends — even on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureFreshBuild } from '../build.js';

export interface SystemdLab {
  name: string;
  /** Host directory holding the instance's pids and logs. */
  state: string;
  /** Host directory bind-mounted as the container's /etc. */
  etc: string;
  labDir: string;
  leader: number;
  /** Where the project (with dist/) is mounted inside the container. */
  project: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    systemdLab: SystemdLab;
  }
}

const labDir = path.resolve('lab/systemd');
export const PROJECT_INSIDE = '/opt/nodewright';
const labEnv = (name: string) => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: name, LAB_MODE: 'hostusr' });

export default function setup(project: TestProject): () => void {
  if (process.getuid?.() !== 0) throw new Error('the systemd lab needs root (systemd-nspawn): run the e2e tests as root');
  for (const bin of ['/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/lib/systemd/systemd']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run lab/install-deps.sh (installs systemd-container)`);
  }
  ensureFreshBuild('systemd'); // the tests run dist/ inside the container
  const name = `nwunit${process.pid}`;
  // The project is visible read-only inside as /opt/nodewright (to run the built CLI there).
  const r = spawnSync(path.join(labDir, 'boot.sh'), [`--bind-ro=${process.cwd()}:${PROJECT_INSIDE}`], {
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
  const lab: SystemdLab = { name, state, etc: `${state}/etc`, labDir, leader: Number(m[1]), project: PROJECT_INSIDE };
  execFileSync(path.join(labDir, 'exec.sh'), ['systemctl', 'is-system-running'], { env: labEnv(name), encoding: 'utf8' });
  project.provide('systemdLab', lab);
  return stop;
}
