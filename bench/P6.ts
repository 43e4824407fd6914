// P6: rbd probe and cephfs quota probe wall time against the lab cluster (median of 5), beside
// the seed's equivalent manual shell commands timed in the same run, interleaved.
// Reuses a lab given by NW_CEPH_LAB_DIR (made by lab/ceph/up.sh, not bare), else brings its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../host/index.js';
import type { CephClient } from '../ceph/client.js';
import { rbdProbe } from '../ceph/probe-rbd.js';
import { quotaProbe } from '../ceph/probe-quota.js';
import { ensureQuotaDir } from '../ceph/volume.js';
import { type CephLab, readLabEnv, startCephLab, stopCephLab } from '../lab/ceph/lab.js';
import { median, report, timeIt } from './lib.js';

const RUNS = 5;
const QUOTA_DIR = '/kubernetes/nw-bench-100m';
const QUOTA_BYTES = 100_000_000; // the seed's 100 MB

function shell(script: string, env: Record<string, string>): number {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, encoding: 'utf8', timeout: 120_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`manual baseline failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  return ms;
}

// the seed's commands, as an operator would type them (keyring file, -m, --id; no ceph.conf)
const MANUAL_RBD = `set -e
K="-c /dev/null -m $MON --id k8s --keyring $KR"
rbd $K create k8s/manual-$N --size 4M
rbd $K info k8s/manual-$N >/dev/null
rbd $K rm --no-progress k8s/manual-$N`;
const MANUAL_QUOTA = `set -e
mkdir -p $MNT
ceph-fuse -c /dev/null -k $KR --id k8s -m $MON -r $QDIR $MNT --log-file=/dev/null --admin-socket= >/dev/null 2>&1
df -h $MNT >/dev/null
! dd if=/dev/zero of=$MNT/test1.bin bs=1M count=200 2>/dev/null
! dd if=/dev/zero of=$MNT/test2.bin bs=1M count=200 2>/dev/null
rm -f $MNT/test1.bin $MNT/test2.bin
umount $MNT`;

export async function run(): Promise<void> {
  const given = process.env.NW_CEPH_LAB_DIR;
  let lab: CephLab;
  if (given) lab = readLabEnv(given);
  else {
    const [ms, l] = await timeIt(() => startCephLab());
    lab = l;
    console.log(`lab up in ${(ms / 1000).toFixed(1)} s: ${lab.dir}`);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'nw-bench-p6-'));
  try {
    const host = createHost();
    await ensureQuotaDir(host, { monHost: lab.monAddr, keyringPath: lab.adminKeyring }, QUOTA_DIR, QUOTA_BYTES);
    const c: CephClient = { monHost: lab.monAddr, id: 'k8s', keyringPath: lab.k8sKeyring, timeoutMs: 15_000 };
    const env = { MON: lab.monAddr, KR: lab.k8sKeyring, QDIR: QUOTA_DIR, MNT: path.join(work, 'manual') };
    const t = { rbd: [] as number[], rbdManual: [] as number[], quota: [] as number[], quotaManual: [] as number[] };
    const overshoot: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [rbdMs, r] = await timeIt(() => rbdProbe(host, c, { pool: 'k8s' }));
      if (!r.ok) throw new Error(`rbd probe failed: ${r.error?.code} ${r.error?.message}`);
      t.rbd.push(rbdMs);
      t.rbdManual.push(shell(MANUAL_RBD, { ...env, N: `${process.pid}-${i}` }));
      const [qMs, q] = await timeIt(() => quotaProbe(host, c, { path: QUOTA_DIR }));
      if (!q.ok) throw new Error(`quota probe failed: ${q.error?.code} ${q.error?.message}`);
      t.quota.push(qMs);
      overshoot.push(Number(q.details.bytesBeforeEdquot));
      t.quotaManual.push(shell(MANUAL_QUOTA, env));
    }
    const m = { rbd: median(t.rbd), rbdManual: median(t.rbdManual), quota: median(t.quota), quotaManual: median(t.quotaManual) };
    const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(' ');
    console.log(`rbd probe ms:            ${fmt(t.rbd)}  (median ${Math.round(m.rbd)})`);
    console.log(`rbd manual (seed) ms:    ${fmt(t.rbdManual)}  (median ${Math.round(m.rbdManual)}; ratio probe/manual ${(m.rbd / m.rbdManual).toFixed(2)})`);
    console.log(`quota probe ms:          ${fmt(t.quota)}  (median ${Math.round(m.quota)})`);
    console.log(`quota manual (seed) ms:  ${fmt(t.quotaManual)}  (median ${Math.round(m.quotaManual)}; ratio probe/manual ${(m.quota / m.quotaManual).toFixed(2)})`);
    console.log(`bytes before EDQUOT (100 MB quota): ${overshoot.join(' ')}`);
    const rbdPass = m.rbd / 1000 <= 1;
    console.log(`P6 rbd_probe_s=${(m.rbd / 1000).toFixed(3)} s (target <= 1) ${rbdPass ? 'PASS' : 'MISS'}`);
    report({
      id: 'P6',
      metric: 'quota_probe_s',
      value: Number((m.quota / 1000).toFixed(3)),
      unit: 's',
      op: '<=',
      target: 5,
      extra: {
        runs: RUNS,
        rbdProbeS: m.rbd / 1000,
        rbdTargetS: 1,
        rbdPass,
        rbdManualS: m.rbdManual / 1000,
        quotaManualS: m.quotaManual / 1000,
        samplesMs: t,
        bytesBeforeEdquot: overshoot,
        quotaBytes: QUOTA_BYTES,
        lab: given ? 'reused' : 'own',
      },
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!given) stopCephLab(lab.dir);
  }
}
