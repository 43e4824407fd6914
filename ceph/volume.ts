// `nodewright cephfs volume create`: a CephFS directory with ceph.quota.max_bytes, made through
// a short-lived admin ceph-fuse mount of the filesystem root (as the seed does by hand).
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';
import { type CephAdmin, adminAsClient } from './admin.js';
import { fuseMount, fuseUnmount, removeWorkDir } from './fuse.js';
import { detectVersion } from './version.js';

export interface QuotaDirResult {
  path: string;
  quotaBytes: number;
  previousQuotaBytes: number | null; // null: the directory did not exist
  changed: boolean;
}

export function volumePath(name: string, parent = '/kubernetes'): string {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new NwError('NW_USAGE', `volume name ${JSON.stringify(name)} is not a valid Kubernetes name (lowercase letters, digits, '-', '.')`);
  }
  return path.posix.join(parent.startsWith('/') ? parent : `/${parent}`, name);
}

export function checkCephfsPath(p: string): string {
  const norm = path.posix.normalize(p);
  if (!norm.startsWith('/') || norm === '/' || norm.split('/').includes('..')) throw new NwError('NW_USAGE', `CephFS path ${JSON.stringify(p)} must be absolute and below /`);
  return norm;
}

export async function ensureQuotaDir(host: Host, a: CephAdmin, cephfsPath: string, quotaBytes: number): Promise<QuotaDirResult> {
  const p = checkCephfsPath(cephfsPath);
  const client = await adminAsClient(a);
  const workDir = await mkdtemp(path.join(tmpdir(), 'nw-volume-'));
  const mountDir = path.join(workDir, 'mnt');
  await mkdir(mountDir);
  try {
    const version = await detectVersion(host, 'ceph-fuse');
    await fuseMount(host, client, { path: '/', mountDir, workDir, timeoutMs: client.timeoutMs ?? 30_000, version });
    const dir = path.join(mountDir, p);
    // each metadata operation waits on the MDS: the admin's cluster limit, not a fixed 10 s (slow, loaded hosts)
    const opMs = Math.max(10_000, client.timeoutMs ?? 30_000);
    const existed = await host.exec('test', ['-d', dir], { timeoutMs: opMs, allowFailure: true }).then((r) => r.exitCode === 0);
    if (!existed) await host.exec('mkdir', ['-p', dir], { timeoutMs: opMs });
    const cur = await host.exec('getfattr', ['--only-values', '-n', 'ceph.quota.max_bytes', dir], { timeoutMs: opMs, allowFailure: true });
    const previous = cur.exitCode === 0 && /^\d+$/.test(cur.stdout.trim()) ? +cur.stdout.trim() : 0;
    let changed = !existed;
    if (previous !== quotaBytes) {
      await host.exec('setfattr', ['-n', 'ceph.quota.max_bytes', '-v', String(quotaBytes), dir], { timeoutMs: opMs });
      changed = true;
    }
    const check = await host.exec('getfattr', ['--only-values', '-n', 'ceph.quota.max_bytes', dir], { timeoutMs: opMs, allowFailure: true });
    if (check.stdout.trim() !== String(quotaBytes)) throw new NwError('NW_QUOTA', `set ceph.quota.max_bytes=${quotaBytes} on ${p} but it reads back ${JSON.stringify(check.stdout.trim())}`);
    return { path: p, quotaBytes, previousQuotaBytes: existed ? previous : null, changed };
  } finally {
    await fuseUnmount(host, mountDir);
    await removeWorkDir(workDir, mountDir);
  }
}
