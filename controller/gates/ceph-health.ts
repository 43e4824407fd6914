// The cephHealth gate: the controller reads `ceph status` and `ceph health detail` (JSON) of the
// cluster a rollout's desired state names, as its own read-only client (controller.yaml `ceph:`,
// `mon 'allow r'`, created by `nodewright ceph prepare --monitor-keyring-out`). The keyring is a FILE
// (never a key on argv); every call has a timeout. judgeCephHealth is the pure half.
import type { Host } from '../../host/index.js';
import { isNwError, NwError } from '../../host/errors.js';
import { cephAdminJson, type CephAdmin } from '../../ceph/admin.js';
import type { CephHealthGate } from '../rollout/gates.js';
import type { GateVerdict } from './verdict.js';

export interface CephMonitorClient {
  /** client id without "client." */
  clientId: string;
  keyringFile: string;
  timeoutMs: number;
}

/** The cluster as the desired state names it. */
export interface CephTarget {
  fsid: string;
  monHost: string[];
}

interface HealthCheck {
  severity: string;
  summary?: { message?: string };
  muted?: boolean;
}
export interface CephHealthDetail {
  status: string;
  checks?: Record<string, HealthCheck>;
}
export interface CephStatus {
  fsid: string;
  pgmap?: { num_pgs?: number; pgs_by_state?: { state_name: string; count: number }[] };
}

const RANK: Record<string, number> = { HEALTH_OK: 0, HEALTH_WARN: 1, HEALTH_ERR: 2 };

/** Pass or hold, and why: the status without the ignored checks, each failing check named. */
export function judgeCephHealth(spec: CephHealthGate['cephHealth'], target: CephTarget, status: CephStatus, health: CephHealthDetail): GateVerdict {
  if (status.fsid !== target.fsid) return { pass: false, message: `the cluster at ${target.monHost.join(',')} has fsid ${status.fsid}, not the desired state's ${target.fsid}` };
  const checks = Object.entries(health.checks ?? {}).filter(([code, c]) => !spec.ignore.includes(code) && !c.muted);
  let effective = 'HEALTH_OK';
  for (const [, c] of checks) if ((RANK[c.severity] ?? 2) > RANK[effective]) effective = RANK[c.severity] === undefined ? 'HEALTH_ERR' : c.severity;
  const named = checks.map(([code, c]) => `${code}: ${c.summary?.message ?? c.severity}`).join('; ');
  if (!spec.allow.includes(effective)) return { pass: false, message: `${effective} (${named || 'no check named'})` };
  if (spec.cleanPgs) {
    const states = status.pgmap?.pgs_by_state ?? [];
    const unclean = states.filter((s) => s.state_name !== 'active+clean');
    if (unclean.length > 0) return { pass: false, message: `PGs not active+clean: ${unclean.map((s) => `${s.count} ${s.state_name}`).join(', ')}` };
  }
  const ignored = Object.keys(health.checks ?? {}).filter((c) => spec.ignore.includes(c));
  return { pass: true, message: `${effective}${health.status !== effective ? ` (${health.status} without ${ignored.join(', ')})` : ''}` };
}

/** The connection the controller's monitor client makes to the cluster a desired state names. */
export function monitorConnection(client: CephMonitorClient, target: CephTarget): CephAdmin {
  return { monHost: target.monHost.join(','), id: client.clientId, keyringPath: client.keyringFile, timeoutMs: client.timeoutMs };
}

export async function checkCephHealth(host: Host, client: CephMonitorClient, target: CephTarget, spec: CephHealthGate['cephHealth']): Promise<GateVerdict> {
  const conn = monitorConnection(client, target);
  try {
    const status = await cephAdminJson<CephStatus>(host, conn, ['status'], 'read the cluster status');
    const health = await cephAdminJson<CephHealthDetail>(host, conn, ['health', 'detail'], 'read the health detail');
    return judgeCephHealth(spec, target, status, health);
  } catch (e) {
    if (isNwError(e) && e.code === 'NW_CEPH_TIMEOUT') return { pass: false, message: `ceph unreachable: tried monitors ${target.monHost.join(', ')} for ${client.timeoutMs / 1000} s` };
    return { pass: false, message: `ceph status failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Before a rollout starts: the Ceph cluster its desired state names must answer the controller's
 * monitor client (`ceph status`, fsid checked). Unreachable → NW_CEPH_TIMEOUT naming the monitors
 * tried; a rollout never starts against a cluster nobody can reach.
 */
export async function requireCephReachable(host: Host, client: CephMonitorClient, target: CephTarget): Promise<void> {
  const conn = monitorConnection(client, target);
  const tried = `tried monitors ${target.monHost.join(', ')} as client.${client.clientId} for ${client.timeoutMs / 1000} s`;
  let status: CephStatus;
  try {
    status = await cephAdminJson<CephStatus>(host, conn, ['status'], 'read the cluster status');
  } catch (e) {
    if (isNwError(e) && e.code === 'NW_CEPH_TIMEOUT') {
      throw new NwError('NW_CEPH_TIMEOUT', `the Ceph cluster ${target.fsid} the desired state names is unreachable (${tried}); the rollout did not start: check the monitors and the desired state's ceph.monHost`);
    }
    if (isNwError(e)) throw new NwError(e.code, `the rollout did not start: ${e.message} (${tried})`);
    throw e;
  }
  if (status.fsid !== target.fsid) {
    throw new NwError('NW_CEPH', `the monitors ${target.monHost.join(', ')} serve the cluster ${status.fsid}, not the desired state's fsid ${target.fsid}; the rollout did not start: fix ceph.fsid or ceph.monHost`);
  }
}
