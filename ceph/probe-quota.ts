// cephfs quota probe: mount the quota'd directory with ceph-fuse as the node's client, check
// statfs shows the quota, write past it expecting EDQUOT within a bounded overshoot, check a
// second write fails at once; always remove the probe files and unmount (also on timeout).
// Each worker writes and removes only its own files, `.nw-quota-probe@<node>@<random>-N`, so the
// probes of different workers never touch each other's files. They sit in the quota directory
// itself, not in a per-node subdirectory: below a subdirectory the client learns the quota root's
// usage only after the MDS propagated it two levels up (lazily), and a 16 MiB quota took 80 MiB
// without EDQUOT (measured here, ceph-fuse 16.2.15); direct children are enforced at once.
import { access, mkdtemp, mkdir, rmdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';
import { systemdBooted } from '../host/transient.js';
import { type CephClient, DEFAULT_CEPH_TIMEOUT_MS, Deadline, resolveClient } from './client.js';
import { fuseMount, fuseUnmount, isMounted, removeWorkDir, withFuseWatchdog } from './fuse.js';
import { type ProbeResult, failed, passed } from './probe.js';
import { detectVersion, needsClientQuotaFlag } from './version.js';
import { MiB, dfShowsQuota, expectedDfBytes, firstWriteBlocks, judgeFirstWrite, judgeSecondWrite, overshootAllowance, parseDd } from './quota-plan.js';

/** the watchdog fires this long after a command's own timeout, when its kill did not help */
const WATCHDOG_GRACE_MS = 3_000;
const PROBE_FILE_PREFIX = '.nw-quota-probe-';

export interface QuotaProbeOptions {
  /** CephFS directory carrying ceph.quota.max_bytes, e.g. /kubernetes/nw-probe */
  path: string;
  /** worker path (under --root) to mount on, created if missing; default a fresh temp dir */
  mountDir?: string;
  /** limit for the writes (default 60 s) */
  writeTimeoutMs?: number;
  /** this worker's name: it touches only its own probe files, .nw-quota-probe@<node>@… (default: the host name) */
  node?: string;
}

/** A node name as part of a file name: no '/', no '@' (the separator), no glob characters. */
export function probeNodeTag(node: string): string {
  return node.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || '_';
}

/** This node's probe files: `.nw-quota-probe@<node>@` + random + `-1|-2`; never another node's. */
export const probeFilePrefix = (node: string) => `${PROBE_FILE_PREFIX}@${probeNodeTag(node)}@`;

/**
 * Under systemd (the shipped unit) ceph-fuse runs in a transient unit, so the mount point must
 * be a path PID 1 and the agent share: a private dir under the state dir, not the agent's
 * PrivateTmp. Elsewhere (tests with a sandbox root, a CLI on a host without systemd) a temp dir.
 */
async function probeWorkDir(host: Host, transient: boolean): Promise<string> {
  if (!transient) return mkdtemp(path.join(tmpdir(), 'nw-quota-'));
  const base = host.fs.resolve(path.posix.join(host.fs.stateDir, 'quota-probe'));
  await mkdir(base, { recursive: true, mode: 0o700 });
  return mkdtemp(path.join(base, 'p-'));
}

export async function quotaProbe(host: Host, worker: CephClient, opts: QuotaProbeOptions): Promise<ProbeResult> {
  const c = resolveClient(host, worker);
  const dl = new Deadline(host, c.timeoutMs ?? DEFAULT_CEPH_TIMEOUT_MS);
  /** limit for each metadata operation on the mount (getfattr, stat, find, rm) */
  const ioMs = Math.max(2_000, c.timeoutMs ?? DEFAULT_CEPH_TIMEOUT_MS);
  const timings: Record<string, number> = {};
  const details: Record<string, unknown> = { path: opts.path, client: `client.${c.id.replace(/^client\./, '')}`, timings };
  const time = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t = host.clock.now();
    try {
      return await fn();
    } finally {
      timings[`${step}Ms`] = Math.round(host.clock.now() - t);
    }
  };
  const transient = host.fs.root === '/' && (await systemdBooted(host));
  const workDir = await probeWorkDir(host, transient);
  const mountDir = opts.mountDir ? host.fs.resolve(opts.mountDir) : path.join(workDir, 'mnt');
  const createdMountDir = !opts.mountDir || !(await exists(mountDir));
  await mkdir(mountDir, { recursive: true });
  details.mountDir = mountDir;
  const prefix = probeFilePrefix(opts.node ?? hostname());
  details.probeFiles = `${prefix}*`;
  details.transientUnits = transient;
  const files: string[] = [];
  let unit: string | undefined;
  let result: ProbeResult;
  try {
    if (await isMounted(mountDir)) throw new NwError('NW_QUOTA', `${mountDir} is already a mount point; give the quota probe a free mountDir`);
    const version = await time('version', () => detectVersion(host, 'ceph-fuse'));
    details.cephFuseVersion = `${version.major}.${version.minor}.${version.patch}`;
    details.clientQuotaFlag = needsClientQuotaFlag(version);
    unit = await time('mount', () =>
      fuseMount(host, c, { path: opts.path, mountDir, workDir, timeoutMs: dl.remaining(), version, transient }).catch((e: unknown) => {
        if (e instanceof NwError && e.code === 'NW_CEPH' && /\(2\) No such file/.test(String(e.details?.stderr))) {
          throw new NwError('NW_QUOTA', `${opts.path} does not exist in CephFS; create it with \`nodewright cephfs volume create\` (or fix the probe path)`);
        }
        throw e;
      }),
    );

    const io = <T>(what: string, ms: number, fn: () => Promise<T>) => withFuseWatchdog(mountDir, ms, what, fn);
    const quota = await time('getQuota', () => io(`reading the quota of ${opts.path}`, ioMs + WATCHDOG_GRACE_MS, () => readQuota(host, mountDir, ioMs)));
    const dfBytes = await time('statfs', () => io(`statfs of ${opts.path}`, ioMs + WATCHDOG_GRACE_MS, () => statfsBytes(host, mountDir, ioMs)));
    details.quotaBytes = quota;
    details.dfSizeBytes = dfBytes;
    if (quota === 0) {
      details.reason = `${opts.path} has no ceph.quota.max_bytes: df shows ${dfBytes} bytes (the cluster), writes are not limited`;
      result = { name: 'cephfs-quota', status: 'not-enforced', ok: false, durationMs: 0, details, error: { code: 'NW_QUOTA', message: `quota not enforced: ${details.reason}; set one with \`nodewright cephfs volume create\`` } };
    } else {
      details.expectedDfBytes = expectedDfBytes(quota);
      if (!dfShowsQuota(dfBytes, quota)) {
        throw new NwError('NW_QUOTA', `statfs of ${opts.path} shows ${dfBytes} bytes, not the quota ${quota} (expected ${expectedDfBytes(quota)}): ceph-fuse does not apply the quota`);
      }
      // files of an earlier probe of THIS node that could not clean up (cluster gone mid-write) would eat the quota
      details.staleProbeFiles = await io('removing stale probe files', ioMs + WATCHDOG_GRACE_MS, () => removeStaleProbeFiles(host, mountDir, prefix, ioMs));
      details.usedBytesBefore = await io(`reading the usage of ${opts.path}`, ioMs + WATCHDOG_GRACE_MS, () => readRbytes(host, mountDir, ioMs));
      const tag = `${prefix}${randomBytes(4).toString('hex')}`;
      const writeMs = opts.writeTimeoutMs ?? 60_000;
      const f1 = path.join(mountDir, `${tag}-1`);
      files.push(f1);
      const first = await time('write', () => io(`writing to ${opts.path}`, writeMs + WATCHDOG_GRACE_MS, () => dd(host, f1, firstWriteBlocks(quota), writeMs)));
      details.bytesBeforeEdquot = first.bytes;
      details.overshootBytes = first.bytes - quota;
      details.overshootAllowanceBytes = overshootAllowance(quota);
      const v1 = judgeFirstWrite(first, quota);
      if (!v1.ok) throw new NwError('NW_QUOTA', `${opts.path}: ${v1.reason}`);
      const f2 = path.join(mountDir, `${tag}-2`);
      files.push(f2);
      const t2 = host.clock.now();
      const second = await io(`the second write to ${opts.path}`, writeMs + WATCHDOG_GRACE_MS, () => dd(host, f2, 1, writeMs));
      timings.secondWriteMs = Math.round(host.clock.now() - t2);
      details.secondWriteBytes = second.bytes;
      const v2 = judgeSecondWrite(second, timings.secondWriteMs);
      if (!v2.ok) throw new NwError('NW_QUOTA', `${opts.path}: ${v2.reason}`);
      result = passed('cephfs-quota', 0, details);
    }
  } catch (e) {
    result = failed('cephfs-quota', 0, details, e, 'NW_QUOTA');
  } finally {
    if (files.length) {
      const rmr = await time('cleanupFiles', () =>
        withFuseWatchdog(mountDir, ioMs + WATCHDOG_GRACE_MS, 'removing the probe files', () => host.exec('rm', ['-f', ...files], { timeoutMs: ioMs, allowFailure: true })).catch(() => null),
      );
      if (!rmr || rmr.exitCode !== 0) details.cleanupFiles = `could not remove ${files.join(', ')}`;
    }
    const um = await time('unmount', () => fuseUnmount(host, mountDir, { unit }));
    details.unmount = um;
    if (await isMounted(mountDir)) details.leftoverMount = mountDir;
    else if (createdMountDir) await rmdir(mountDir).catch(() => undefined);
    await removeWorkDir(workDir, mountDir);
  }
  if (details.leftoverMount && result!.ok) {
    result = failed('cephfs-quota', 0, details, new NwError('NW_QUOTA', `${mountDir} is still mounted after the probe; unmount it with \`umount -l ${mountDir}\``));
  }
  result!.durationMs = Math.round(dl.elapsed());
  timings.totalMs = result!.durationMs;
  return result!;
}

const exists = (p: string) => access(p).then(() => true, () => false);

/** ceph.quota.max_bytes of the mount root; 0 when the directory has none. */
async function readQuota(host: Host, dir: string, ioMs: number): Promise<number> {
  const r = await host.exec('getfattr', ['--only-values', '-n', 'ceph.quota.max_bytes', dir], { timeoutMs: ioMs, allowFailure: true });
  if (r.exitCode !== 0) {
    if (/No such attribute|No data available/i.test(r.stderr)) return 0;
    throw new NwError('NW_QUOTA', `getfattr ceph.quota.max_bytes on ${dir} failed: ${r.stderr.trim()} (is the attr package installed?)`);
  }
  const v = r.stdout.trim();
  if (!/^\d+$/.test(v)) throw new NwError('NW_QUOTA', `ceph.quota.max_bytes reads ${JSON.stringify(v)}, not a byte count`);
  return +v;
}

async function removeStaleProbeFiles(host: Host, dir: string, prefix: string, ioMs: number): Promise<number> {
  const r = await host.exec('find', [dir, '-maxdepth', '1', '-name', `${prefix}*`, '-print', '-delete'], { timeoutMs: ioMs, allowFailure: true });
  return r.stdout.split('\n').filter(Boolean).length;
}

/** ceph.dir.rbytes: what the directory already holds (the MDS's recursive stat, may lag). */
async function readRbytes(host: Host, dir: string, ioMs: number): Promise<number | null> {
  const r = await host.exec('getfattr', ['--only-values', '-n', 'ceph.dir.rbytes', dir], { timeoutMs: ioMs, allowFailure: true });
  return r.exitCode === 0 && /^\d+$/.test(r.stdout.trim()) ? +r.stdout.trim() : null;
}

async function statfsBytes(host: Host, dir: string, ioMs: number): Promise<number> {
  const r = await host.exec('stat', ['-f', '-c', '%S %b', dir], { timeoutMs: ioMs });
  const [bsize, blocks] = r.stdout.trim().split(/\s+/).map(Number);
  return bsize * blocks;
}

async function dd(host: Host, file: string, blocks: number, timeoutMs: number) {
  try {
    const r = await host.exec('dd', ['if=/dev/zero', `of=${file}`, `bs=${MiB}`, `count=${blocks}`], { timeoutMs, allowFailure: true });
    return parseDd(r.exitCode, r.stderr);
  } catch (e) {
    if (e instanceof NwError && e.code === 'NW_EXEC_TIMEOUT') throw new NwError('NW_CEPH_TIMEOUT', `writing to ${file} did not finish within ${timeoutMs} ms: the cluster (OSD or MDS) stopped answering`);
    throw e;
  }
}
