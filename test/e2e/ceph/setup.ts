// globalSetup of the Ceph lab: ONE real single-node Ceph 16 (mon, mgr, osd on memstore, mds)
// on a free base port and a fresh temp dir, started BARE (no pools, fs or client user) so the
// suite proves `nodewright ceph prepare` on a fresh cluster. Torn down at the end, even on
// failure: down.sh stops exactly the pids up.sh recorded and removes the dir.
import type { TestProject } from 'vitest/node';
import { ensureFreshBuild } from '../build.js';
import { type CephLab, startCephLab, stopCephLab } from '../../../lab/ceph/lab.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cephLab: CephLab;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  ensureFreshBuild('ceph'); // the tests run the real CLI from dist/
  const t0 = Date.now();
  const lab = await startCephLab({ bare: true });
  process.stderr.write(`ceph lab up in ${Date.now() - t0} ms: ${lab.dir} (mon ${lab.monHost}, logs ${lab.dir}/log)\n`);
  project.provide('cephLab', lab);
  return () => {
    const out = stopCephLab(lab.dir);
    if (!/removed/.test(out)) process.stderr.write(`ceph lab teardown: ${out}\n`);
  };
}
