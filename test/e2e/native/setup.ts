// globalSetup of the native-kubelet lab: build and package, make the host-side share (signing keys, token),
// boot ONE worker whose root is a real Debian 12 tree (debootstrap, cached under lab/native/cache/)
// with the agent's .deb installed by apt-get, no host node (lab/native/up.sh), hand its coordinates to the
// tests. At the end save the container's journal next to the share and stop exactly that container.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../../lab/ports.js';
import { ensureFreshPackage } from '../build.js';

export interface NativeLab {
  name: string;
  share: string;
  agentPort: number;
  token: string;
  journal: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    nativeLab: NativeLab;
  }
}

const repo = path.resolve('.');
const env = (name: string, extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: name, LAB_MODE: 'rootfs', ...extra });

export default async function setup(project: TestProject): Promise<() => void> {
  if (process.getuid?.() !== 0) throw new Error('the native lab needs root (systemd-nspawn): run the e2e tests as root');
  for (const bin of ['/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/usr/sbin/debootstrap', '/usr/bin/zstd']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run lab/install-deps.sh (installs systemd-container, debootstrap, zstd)`);
  }
  ensureFreshPackage('native');

  const share = mkdtempSync('/tmp/nw-e2e-native-');
  const mk = spawnSync('bash', [path.join(repo, 'lab/worker/make-share.sh'), share], { encoding: 'utf8', timeout: 60_000 });
  if (mk.status !== 0) throw new Error(`lab/worker/make-share.sh failed: ${mk.stdout}${mk.stderr}`);
  const name = `nwnative${process.pid}`;
  const journal = path.join(share, `journal-${name}.txt`);
  const stop = () => {
    const j = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['journalctl', '-b', '--no-pager', '-o', 'short-precise'], { env: env(name), encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
    if (j.stdout) writeFileSync(journal, j.stdout);
    process.stderr.write(`native lab ${name}: container journal saved to ${journal}\n`);
    const s = spawnSync('bash', [path.join(repo, 'lab/native/down.sh')], { env: env(name), encoding: 'utf8', timeout: 60_000 });
    if (s.status !== 0) process.stderr.write(`native lab stop of ${name} failed: ${s.stdout}${s.stderr}\n`);
    for (const f of readdirSync(share)) if (!/^journal-.*\.txt$/.test(f)) rmSync(path.join(share, f), { recursive: true, force: true });
  };
  try {
    const agentPort = await freePort();
    const t0 = Date.now();
    // first run: debootstrap (~35 s on an idle machine) + root tarball; later runs unpack nothing
    const up = spawnSync('bash', [path.join(repo, 'lab/native/up.sh')], { env: env(name, { LAB_SHARE: share, AGENT_PORT: String(agentPort) }), encoding: 'utf8', timeout: 900_000 });
    if (up.status !== 0) throw new Error(`lab/native/up.sh failed (exit ${up.status ?? up.signal}): ${up.stdout}${up.stderr}\n(journal: ${journal})`);
    process.stderr.write(`native lab: worker ${name} up in ${Date.now() - t0} ms\n${up.stdout}`);
    project.provide('nativeLab', { name, share, agentPort, token: readFileSync(path.join(share, 'token'), 'utf8').trim(), journal });
  } catch (e) {
    stop();
    throw e;
  }
  return stop;
}
