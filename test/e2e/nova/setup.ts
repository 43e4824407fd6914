// globalSetup of the Nova lab: ONE real Nova (Zed, FakeDriver computes cmp-a/127.0.0.11 and
// cmp-b/127.0.0.12, four servers) plus a real Keystone (lab/keystone, started alongside; the
// catalog's compute endpoint is Nova's keystone-authenticated /ks/v2.1) and a real Cinder with two
// RBD backends on its own Ceph lab (NOVA_LAB_CINDER=1, started alongside) on free loopback ports and
// a fresh dir, torn down at the end even on failure (down.sh stops exactly the recorded pids).
// Set NOVA_LAB_REUSE=<dir> to run against a lab you started with lab/nova/up.sh <dir> (it is
// left running; start it with NOVA_LAB_KEYSTONE=1 too: up.sh is re-run with it, but an already
// running nova-api keeps the paste config it started with, so no /ks/v2.1 otherwise).
import type { TestProject } from 'vitest/node';
import { type NovaLab, startNovaLab, stopNovaLab } from '../../../lab/nova/lab.js';
import { ensureFreshBuild, ensureFreshPackage } from '../build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    novaLab: NovaLab;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureFreshBuild('nova'); // the labs' helper scripts run from dist/
  ensureFreshPackage('nova'); // the e2e tests run the packaged controller
  const t0 = Date.now();
  const lab = await startNovaLab({ reuseDir: process.env.NOVA_LAB_REUSE || undefined, keystone: true, cinder: true, timeoutMs: 600_000 });
  process.stderr.write(`nova lab up in ${Date.now() - t0} ms: ${lab.endpoint} (dir ${lab.dir}, logs ${lab.logs})\n`);
  project.provide('novaLab', lab);
  return async () => {
    if (!lab.owned) return;
    const keep = process.env.NOVA_LAB_KEEP === '1';
    const out = await stopNovaLab(lab.dir, !keep);
    if (keep) process.stderr.write(`nova lab stopped; state kept in ${lab.dir}\n`);
    else if (!/purged/.test(out)) process.stderr.write(`nova lab teardown: ${out}\n`);
  };
}
