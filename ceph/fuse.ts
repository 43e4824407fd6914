// ceph-fuse mounts the way the seed's patched kubelet does them (`-k KEYRING --id ID -m MONS
// -r PATH`), bounded by ceph's client_mount_timeout and our process timeout, and unmounted
// for sure: umount, lazy umount as fallback, and the ceph-fuse process (found by its unique
// mount dir in /proc/PID/cmdline) waited for and, if it lingers, killed by pid.
// Under the agent's unit (no CAP_SYS_ADMIN, no /dev/fuse, its own mount namespace) the mount and
// the unmount run in transient units started by PID 1 (host/transient.ts); the mount is made in
// the worker's namespace and propagates into the agent's, where the probe's I/O runs.
import { readFile, readdir, rm } from 'node:fs/promises';
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';
import { runTransient, startedRunArgs, stopUnit, transientUnitName, unitExit } from '../host/transient.js';
import { type CephClient, cephTimeoutArgs, runCephTool } from './client.js';
import { classifyCephFailure } from './failure.js';
import { type CephVersion, needsClientQuotaFlag } from './version.js';

export interface FuseMountOptions {
  /** CephFS path to mount as the root (-r). */
  path: string;
  mountDir: string;
  /** private dir for the log file and run dir (removed by the caller). */
  workDir: string;
  timeoutMs: number;
  version: CephVersion;
  /** mount from a transient unit (the agent's own sandbox cannot mount) */
  transient?: boolean;
}

/**
 * The mount unit: no namespace of its own (the mount must land in the worker's), only the
 * capability to mount, only /dev/fuse among devices, only the sockets a ceph client needs.
 */
export const MOUNT_UNIT_PROPERTIES = [
  'NoNewPrivileges=yes',
  'CapabilityBoundingSet=CAP_SYS_ADMIN',
  'DevicePolicy=closed',
  'DeviceAllow=/dev/fuse rw',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
  'SystemCallArchitectures=native',
  'LockPersonality=yes',
  'RestrictRealtime=yes',
  'LimitCORE=0',
];
/** The unmount unit: umount(2) and nothing else. */
export const UMOUNT_UNIT_PROPERTIES = ['NoNewPrivileges=yes', 'CapabilityBoundingSet=CAP_SYS_ADMIN', 'RestrictAddressFamilies=AF_UNIX', 'LimitCORE=0'];

export function fuseArgs(c: CephClient, o: Omit<FuseMountOptions, 'timeoutMs'> & { timeoutMs: number }): string[] {
  const args = ['-c', c.confPath ?? '/dev/null', '-k', c.keyringPath, '--id', c.id.replace(/^client\./, ''), '-m', c.monHost, '-r', o.path, o.mountDir];
  args.push(...cephTimeoutArgs(o.timeoutMs).slice(0, 1), `--log-file=${o.workDir}/ceph-fuse.log`, '--admin-socket=');
  // our own conf-less mounts get a run dir that surely exists; an operator's conf is taken as is
  if (!c.confPath) args.push(`--run-dir=${o.workDir}`);
  if (needsClientQuotaFlag(o.version)) args.push('--client-quota');
  return args;
}

/** Mount; returns the transient unit holding ceph-fuse, if one was used (fuseUnmount stops it). */
export async function fuseMount(host: Host, c: CephClient, o: FuseMountOptions): Promise<string | undefined> {
  const who = `client.${c.id.replace(/^client\./, '')} (keyring ${c.keyringPath})`;
  const what = `ceph-fuse mount of ${o.path} as ${who}`;
  let unit: string | undefined;
  if (o.transient) unit = await transientMount(host, c, o, what, who);
  else await runCephTool(host, 'ceph-fuse', fuseArgs(c, o), { timeoutMs: o.timeoutMs, what, who, monHost: c.monHost });
  if (!(await isMounted(o.mountDir))) {
    if (unit) await stopUnit(host, unit);
    throw new NwError('NW_CEPH', `ceph-fuse exited 0 but ${o.mountDir} is not mounted; see ${o.workDir}/ceph-fuse.log`);
  }
  return unit;
}

/**
 * ceph-fuse as a Type=forking transient unit: systemd-run returns when the parent exits, i.e.
 * when the mount is up or has failed. Its output goes to files in the work dir, read back for
 * the coded error, with the exit status PID 1 recorded.
 */
async function transientMount(host: Host, c: CephClient, o: FuseMountOptions, what: string, who: string): Promise<string> {
  if (o.timeoutMs <= 0) throw new NwError('NW_CEPH_TIMEOUT', `${what}: no time left within the configured limit; check that the monitors (${c.monHost}) are reachable`);
  const unit = transientUnitName('nodewright-quota-mount');
  const out = `${o.workDir}/ceph-fuse.stdout`;
  const err = `${o.workDir}/ceph-fuse.stderr`;
  const timeoutSec = Math.max(1, Math.ceil(o.timeoutMs / 1000));
  const args = startedRunArgs(unit, {
    prefix: unit,
    serviceType: 'forking',
    command: ['ceph-fuse', ...fuseArgs(c, o)],
    properties: [...MOUNT_UNIT_PROPERTIES, `StandardOutput=file:${out}`, `StandardError=file:${err}`],
    timeoutSec,
  });
  const r = await host.exec('systemd-run', args, { timeoutMs: o.timeoutMs + 10_000, allowFailure: true }).catch((e: unknown) => {
    if (e instanceof NwError && e.code === 'NW_EXEC_TIMEOUT') return null;
    throw e;
  });
  if (r && r.exitCode === 0) return unit;
  const x = await unitExit(host, unit);
  const read = (f: string) => readFile(f, 'utf8').catch(() => '');
  const [stdout, stderr] = await Promise.all([read(out), read(err)]);
  await stopUnit(host, unit);
  if (!r || x.result === 'timeout') {
    throw new NwError('NW_CEPH_TIMEOUT', `${what}: no answer from the cluster within ${o.timeoutMs} ms; check that the monitors (${c.monHost}) are up and reachable`, { timeoutMs: o.timeoutMs, unit });
  }
  const signal = x.code === 'killed' || x.code === 'dumped' ? (x.status === 6 ? 'SIGABRT' : `signal ${x.status}`) : undefined;
  throw classifyCephFailure(what, { exitCode: signal ? -1 : x.status, signal, stdout, stderr: stderr || r.stderr }, { who, monHost: c.monHost });
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function isMounted(dir: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => unescapeMount(l.split(' ')[4] ?? '') === dir);
}

/** Live ceph-fuse processes whose argv names exactly this mount dir (ours: the dir is unique). */
export async function fusePids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = (await readFile(`/proc/${p}/cmdline`, 'utf8')).split('\0');
      if (/(^|\/)ceph-fuse$/.test(argv[0]) && argv.includes(dir)) pids.push(+p);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const alive = async (pid: number) => {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).length > 0; // a zombie's is empty
  } catch {
    return false;
  }
};

export interface UnmountReport {
  method: 'umount' | 'lazy' | 'not mounted';
  killed: number[];
  ms: number;
}

/** Unmount and make sure no ceph-fuse for this dir survives. Never throws for cleanup trouble it can fix. */
export async function fuseUnmount(host: Host, dir: string, o: { timeoutMs?: number; exitWaitMs?: number; unit?: string } = {}): Promise<UnmountReport> {
  const t0 = host.clock.now();
  const pids = await fusePids(dir);
  let method: UnmountReport['method'] = 'not mounted';
  const umount = (args: string[], ms: number) =>
    o.unit
      ? runTransient(host, { prefix: 'nodewright-quota-umount', command: ['umount', ...args], properties: UMOUNT_UNIT_PROPERTIES, timeoutSec: Math.ceil(ms / 1000) }, { allowFailure: true })
      : host.exec('umount', args, { timeoutMs: ms, allowFailure: true });
  if (await isMounted(dir)) {
    const r = await umount([dir], o.timeoutMs ?? 10_000).catch(() => null);
    method = 'umount';
    if (!r || r.exitCode !== 0 || (await isMounted(dir))) {
      await umount(['-l', dir], 5_000).catch(() => null);
      method = 'lazy';
    }
  }
  // ceph-fuse flushes and closes its session after umount returns (about 0.1–1 s)
  const until = host.clock.now() + (o.exitWaitMs ?? 5_000);
  let left = pids;
  while (left.length && host.clock.now() < until) {
    await host.clock.sleep(25);
    left = (await Promise.all(left.map(async (p) => ((await alive(p)) ? p : 0)))).filter(Boolean);
  }
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (left.length && (await isMounted(dir))) await umount(['-l', dir], 5_000).catch(() => null);
  if (o.unit) await stopUnit(host, o.unit);
  return { method, killed: left, ms: Math.round(host.clock.now() - t0) };
}

/** Remove a private work dir, but never while something is still mounted below it. */
export async function removeWorkDir(workDir: string, mountDir: string): Promise<boolean> {
  if (await isMounted(mountDir)) return false;
  await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  return true;
}

/**
 * Run I/O on a ceph-fuse mount with a watchdog. A process blocked in a FUSE request (D state,
 * e.g. dd while the OSD is gone) ignores our process timeout's signals, so the exec never
 * returns; when `ms` pass, kill this mount's ceph-fuse by pid: every pending FUSE request then
 * fails (ENOTCONN), the blocked process exits, and we report NW_CEPH_TIMEOUT.
 */
export async function withFuseWatchdog<T>(mountDir: string, ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    void fusePids(mountDir).then((pids) => {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }, ms);
  const timeout = () => new NwError('NW_CEPH_TIMEOUT', `${what} did not finish within ${ms} ms: the cluster (OSD or MDS) stopped answering; ceph-fuse was stopped and the mount dropped`, { timeoutMs: ms });
  try {
    const r = await fn();
    if (fired) throw timeout();
    return r;
  } catch (e) {
    if (fired) throw timeout();
    if (e instanceof NwError && e.code === 'NW_EXEC_TIMEOUT') throw new NwError('NW_CEPH_TIMEOUT', `${what}: ${e.message}; the cluster (OSD or MDS) stopped answering`, e.details);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
