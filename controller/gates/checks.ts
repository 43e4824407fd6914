// One function that runs any gate for a rollout: the generic watcher never names a gate kind.
import type { Host } from '../../host/index.js';
import type { RolloutState } from '../rollout/engine.js';
import { isCephHealthGate, type GateSpec } from '../rollout/gates.js';
import { checkCephHealth, requireCephReachable, type CephMonitorClient, type CephTarget } from './ceph-health.js';
import { checkPrometheus } from './prometheus.js';
import type { GateVerdict } from './verdict.js';

/** The Ceph cluster a rollout's desired state names (fsid, monHost), or null. */
export function cephTargetOf(desired: unknown): CephTarget | null {
  const ceph = (desired as { ceph?: { fsid?: unknown; monHost?: unknown } } | null)?.ceph;
  if (!ceph || typeof ceph.fsid !== 'string' || !Array.isArray(ceph.monHost)) return null;
  return { fsid: ceph.fsid, monHost: ceph.monHost.filter((m): m is string => typeof m === 'string') };
}

export function gateChecker(o: { host: Host; ceph: CephMonitorClient | null; prometheusTimeoutMs: number }) {
  return async (gate: GateSpec, rollout: RolloutState): Promise<GateVerdict> => {
    if (!isCephHealthGate(gate)) return checkPrometheus(gate.prometheus, o.prometheusTimeoutMs);
    const target = cephTargetOf(rollout.desired);
    if (!target) return { pass: false, message: 'the desired state names no Ceph cluster (ceph.fsid, ceph.monHost)' };
    if (!o.ceph) return { pass: false, message: 'the controller has no monitor credential: set controller.yaml ceph: { clientId, keyringFile } (nodewright ceph prepare --monitor-keyring-out)' };
    return checkCephHealth(o.host, o.ceph, target, gate.cephHealth);
  };
}

/** The preflight of `POST /v1/rollouts`: with a monitor credential, the desired state's cluster must answer. */
export function cephPreflight(o: { host: Host; ceph: CephMonitorClient | null }) {
  return async (desired: unknown): Promise<void> => {
    const target = cephTargetOf(desired);
    if (!o.ceph || !target) return; // no credential to ask with, or no cluster named
    await requireCephReachable(o.host, o.ceph, target);
  };
}
