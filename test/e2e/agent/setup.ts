// globalSetup of the agent lab: build and package (the workers install the agent package), make the host-side share (signing keys, token, kubelet
// stand-in builds), boot a worker container (real systemd 252) with the agent installed as a
// real Type=notify service, hand its coordinates to the tests. Then the real Ceph lab (fresh
// cluster on a free port, lab/ceph/lab.ts), `nodewright ceph prepare` + a 16Mi quota volume
// against it, and a SECOND worker (short probe timeouts) for the probe tests, so the fake-keyring
// tests on the first one keep their readiness expectations. At the end save each container's
// journal next to the share and stop exactly what was started — even on failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../../lab/ports.js';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startCephLab, stopCephLab, type CephLab } from '../../../lab/ceph/lab.js';
import { ensureFreshPackage, packagedBin } from '../build.js';

export interface AgentLab {
  name: string;
  share: string;
  kubeletPort: number;
  agentPort: number;
  token: string;
  watchdogSec: number;
  journal: string;
}

/** The second worker and the real cluster it probes. */
export interface CephWorkerLab {
  name: string;
  kubeletPort: number;
  agentPort: number;
  journal: string;
  probeTimeoutSec: number;
  ceph: CephLab;
  /** client.k8s keyring exported by `nodewright ceph prepare --keyring-out` (host path) */
  clientKeyring: string;
  /** the 16Mi quota directory made by `nodewright cephfs volume create` */
  quotaPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    agentLab: AgentLab;
    cephWorkerLab: CephWorkerLab;
  }
}

export { freePort };

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
  // Each worker installs the agent package (dist/pkg) with its install.sh; the host runs the packaged controller.
  ensureFreshPackage('agent');

  const share = mkdtempSync('/tmp/nw-e2e-agent-');
  const mk = spawnSync('bash', [path.join(repo, 'lab/worker/make-share.sh'), share], { encoding: 'utf8', timeout: 60_000 });
  if (mk.status !== 0) throw new Error(`lab/worker/make-share.sh failed: ${mk.stdout}${mk.stderr}`);

  const workers = new Map<string, string>(); // container name → journal file, for teardown
  let ceph: CephLab | undefined;
  const stop = () => {
    for (const [name, journal] of workers) stopWorker(name, journal);
    if (ceph) {
      const out = stopCephLab(ceph.dir);
      if (!/removed/.test(out)) process.stderr.write(`ceph lab teardown: ${out}\n`);
    }
    // Keep only the journals (their paths were printed); keys, token, keyrings and builds go.
    for (const f of readdirSync(share)) if (!/^journal-.*\.txt$/.test(f)) rmSync(path.join(share, f), { recursive: true, force: true });
  };
  try {
    const t0 = Date.now();
    const name = `nwagent${process.pid}`;
    const watchdogSec = 3;
    const w1 = await bootWorker(name, share, { WATCHDOG_SEC: String(watchdogSec), HEALTH_TIMEOUT_SEC: '6', NODE_GROUP: 'lab' }, workers);
    const t1 = Date.now();
    project.provide('agentLab', { name, share, ...w1, token: readFileSync(path.join(share, 'token'), 'utf8').trim(), watchdogSec });

    ceph = await startCephLab({ bare: true });
    const t2 = Date.now();
    const cluster = ['--conf', ceph.conf, '--admin-keyring', ceph.adminKeyring];
    const clientKeyring = path.join(share, 'ceph.client.k8s.keyring');
    nodewright(['ceph', 'prepare', ...cluster, '--keyring-out', clientKeyring]);
    const volume = `nwe2e${process.pid}`;
    nodewright(['cephfs', 'volume', 'create', volume, '--size', '16Mi', ...cluster]);
    const t3 = Date.now();
    const probeTimeoutSec = 5;
    const cname = `nwagentc${process.pid}`;
    const w2 = await bootWorker(cname, share, { PROBE_TIMEOUT_SEC: String(probeTimeoutSec), HEALTH_TIMEOUT_SEC: '6', NODE_GROUP: 'lab-ceph' }, workers);
    project.provide('cephWorkerLab', { name: cname, ...w2, probeTimeoutSec, ceph, clientKeyring, quotaPath: `/kubernetes/${volume}` });
    process.stderr.write(
      `agent lab: worker ${t1 - t0} ms, ceph lab ${t2 - t1} ms (${ceph.dir}, mon ${ceph.monAddr}), prepare+volume ${t3 - t2} ms, ceph worker ${Date.now() - t3} ms\n`,
    );
  } catch (e) {
    stop();
    throw e;
  }
  return stop;
}

/** Boot one worker container; on failure its journal is saved and it is stopped by the caller's teardown. */
async function bootWorker(name: string, share: string, extra: Record<string, string>, started: Map<string, string>) {
  const kubeletPort = await freePort();
  const agentPort = await freePort();
  const journal = path.join(share, `journal-${name}.txt`);
  started.set(name, journal);
  const r = spawnSync('bash', [path.join(repo, 'lab/worker/boot.sh')], {
    env: env(name, { LAB_SHARE: share, KUBELET_PORT: String(kubeletPort), AGENT_PORT: String(agentPort), ...extra }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    throw new Error(`lab/worker/boot.sh failed (exit ${r.status}): ${r.stdout}${r.stderr}\n(journal: ${journal}; run lab/install-deps.sh if systemd-container is missing)`);
  }
  return { kubeletPort, agentPort, journal };
}

function stopWorker(name: string, journal: string) {
  const j = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['journalctl', '-b', '--no-pager', '-o', 'short-precise'], { env: env(name), encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  if (j.stdout) writeFileSync(journal, j.stdout);
  process.stderr.write(`agent lab ${name}: container journal saved to ${journal}\n`);
  const s = spawnSync(path.join(repo, 'lab/systemd/stop.sh'), [], { env: env(name), encoding: 'utf8', timeout: 60_000 });
  if (s.status !== 0) process.stderr.write(`agent lab stop of ${name} failed: ${s.stdout}${s.stderr}\n`);
}

/** The packaged controller CLI (secrets go to files, never argv). */
function nodewright(args: string[]) {
  const r = spawnSync(packagedBin('controller'), args, { encoding: 'utf8', timeout: 180_000, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
  if (r.status !== 0) throw new Error(`nodewright ${args.slice(0, 3).join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}
