// The admin side talks to the cluster with the admin keyring FILE through the `ceph` CLI,
// always with a connect timeout and a process timeout.
import { readFile } from 'node:fs/promises';
import type { Host } from '../host/index.js';
import type { ExecResult } from '../host/exec.js';
import { NwError } from '../host/errors.js';
import { type CephClient, runCephTool } from './client.js';
import { confGet, parseCephConf } from './conf.js';

export interface CephAdmin {
  /** admin's ceph.conf (optional when monHost is given) */
  confPath?: string;
  /** mon host; read from confPath when absent */
  monHost?: string;
  /** admin client id, default "admin" */
  id?: string;
  keyringPath: string;
  /** per command; default 30 s */
  timeoutMs?: number;
}

const adminId = (a: CephAdmin) => (a.id ?? 'admin').replace(/^client\./, '');

export function adminArgs(a: CephAdmin): string[] {
  if (!a.confPath && !a.monHost) throw new NwError('NW_USAGE', 'say where the cluster is: --mon ADDR or --conf /etc/ceph/ceph.conf');
  const t = Math.max(1, Math.floor((a.timeoutMs ?? 30_000) / 1000) - 1);
  return ['-c', a.confPath ?? '/dev/null', ...(a.monHost ? ['-m', a.monHost] : []), '--id', adminId(a), '--keyring', a.keyringPath, '--connect-timeout', String(t)];
}

export async function cephAdmin(host: Host, a: CephAdmin, args: string[], what: string, okExitCodes?: number[]): Promise<ExecResult> {
  return runCephTool(host, 'ceph', [...adminArgs(a), ...args], {
    timeoutMs: a.timeoutMs ?? 30_000,
    what,
    who: `client.${adminId(a)} (keyring ${a.keyringPath})`,
    monHost: a.monHost,
    okExitCodes,
  });
}

export async function cephAdminJson<T>(host: Host, a: CephAdmin, args: string[], what: string): Promise<T> {
  const r = await cephAdmin(host, a, [...args, '-f', 'json'], what);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new NwError('NW_CEPH', `${what}: ceph printed something that is not JSON`);
  }
}

/** The mon host the admin reaches: --mon, else `mon host` from the admin's ceph.conf. */
export async function resolveMonHost(a: CephAdmin): Promise<string> {
  if (a.monHost) return a.monHost;
  if (!a.confPath) throw new NwError('NW_USAGE', 'say where the cluster is: --mon ADDR or --conf /etc/ceph/ceph.conf');
  const text = await readFile(a.confPath, 'utf8').catch(() => {
    throw new NwError('NW_CONFIG', `cannot read ${a.confPath}; pass --conf with the admin's ceph.conf or --mon`);
  });
  const mon = confGet(parseCephConf(text, a.confPath), 'mon host');
  if (!mon) throw new NwError('NW_CONFIG', `${a.confPath} has no "mon host"; pass --mon`);
  return mon;
}

/** The admin as a CephClient (for ceph-fuse mounts of the whole fs). */
export async function adminAsClient(a: CephAdmin): Promise<CephClient> {
  return { monHost: await resolveMonHost(a), id: adminId(a), keyringPath: a.keyringPath, confPath: a.confPath, timeoutMs: a.timeoutMs ?? 30_000 };
}
