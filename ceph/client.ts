// How a node talks to Ceph as its own client user: argv built from a keyring FILE (never the
// key), `-c` a minimal conf or /dev/null plus `-m`, and ceph's own timeouts set below our
// process timeout so ceph gives up first and says why.
import type { Host } from '../host/index.js';
import type { ExecResult } from '../host/exec.js';
import { NwError } from '../host/errors.js';
import { classifyCephFailure } from './failure.js';

export interface CephClient {
  /** e.g. "127.0.0.1:23300" or a mon_host string "[v2:…,v1:…]". */
  monHost: string;
  /** client id without "client.", e.g. "k8s". */
  id: string;
  /** keyring FILE; the key itself never goes on argv. */
  keyringPath: string;
  /** optional minimal ceph.conf; /dev/null otherwise. */
  confPath?: string;
  /** how long to wait for the cluster (connect / mount); default 15 s. */
  timeoutMs?: number;
}

export const DEFAULT_CEPH_TIMEOUT_MS = 15_000;

/** keyring and conf are worker paths: map them under the host's --root for the ceph tools. */
export function resolveClient(host: Host, c: CephClient): CephClient {
  return { ...c, keyringPath: host.fs.resolve(c.keyringPath), ...(c.confPath ? { confPath: host.fs.resolve(c.confPath) } : {}) };
}

export function clientArgs(c: CephClient): string[] {
  const id = c.id.replace(/^client\./, '');
  return ['-c', c.confPath ?? '/dev/null', '-m', c.monHost, '--id', id, '--keyring', c.keyringPath];
}

/** ceph's own connect/op timeouts (whole seconds, at least 1), a little under `ms`. */
export function cephTimeoutArgs(ms: number): string[] {
  const s = Math.max(1, Math.floor((ms - 700) / 1000));
  return [`--client_mount_timeout=${s}`, `--rados_mon_op_timeout=${s}`, `--rados_osd_op_timeout=${s}`];
}

/** A budget shared by the steps of one probe: each step gets what is left. */
export class Deadline {
  readonly start: number;
  constructor(
    private readonly host: Host,
    readonly budgetMs: number,
  ) {
    this.start = host.clock.now();
  }
  elapsed(): number {
    return this.host.clock.now() - this.start;
  }
  remaining(): number {
    return Math.max(0, this.budgetMs - this.elapsed());
  }
}

export interface CephRunOptions {
  timeoutMs: number;
  what: string; // what we were doing, for the message
  who?: string; // e.g. client.k8s with keyring /etc/ceph/…
  monHost?: string;
  input?: string;
  /** Exit codes that are answers, not failures (the caller inspects them). */
  okExitCodes?: number[];
}

/** Run a ceph tool; any failure becomes a coded ceph error. */
export async function runCephTool(host: Host, file: string, args: string[], o: CephRunOptions): Promise<ExecResult> {
  if (o.timeoutMs <= 0) {
    throw new NwError('NW_CEPH_TIMEOUT', `${o.what}: no time left within the configured limit; check that the monitors${o.monHost ? ` (${o.monHost})` : ''} are reachable`);
  }
  let r: ExecResult;
  try {
    r = await host.exec(file, args, { timeoutMs: o.timeoutMs, allowFailure: true, input: o.input });
  } catch (e) {
    if (e instanceof NwError && e.code === 'NW_EXEC_TIMEOUT') {
      throw new NwError('NW_CEPH_TIMEOUT', `${o.what}: no answer from the cluster within ${o.timeoutMs} ms; check that the monitors${o.monHost ? ` (${o.monHost})` : ''} are up and reachable`, { timeoutMs: o.timeoutMs, killed: true });
    }
    if (e instanceof NwError && e.code === 'NW_EXEC_MISSING') {
      throw new NwError('NW_EXEC_MISSING', `${file} is not installed: install ceph-common and ceph-fuse (lab/install-deps.sh on the lab machine)`);
    }
    throw e;
  }
  if (r.exitCode === 0 && !r.signal) return r;
  if (o.okExitCodes?.includes(r.exitCode) && !r.signal) return r;
  throw classifyCephFailure(o.what, r, { who: o.who, monHost: o.monHost });
}
