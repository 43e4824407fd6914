// Probes: prove the worker can use Ceph (rbd + cephfs quota) with the installed keyring. A health
// check run after the steps (it converges nothing): check(ctx, desired) → ProbeStatus[].
import { NwError } from '../host/errors.js';
import { keyringPath, CEPH_CONF_PATH, type DesiredState } from '../protocol/desired.js';
import type { ProbeStatus, StepState } from '../protocol/status.js';
import type { ProbeResult } from '../ceph/probe.js';
import type { CephClient } from '../ceph/client.js';
import type { StepContext } from './steps/types.js';

/** Why the probes do not run, or null when they do. */
export function probesSkip(ctx: StepContext, d: DesiredState): { state: StepState; message: string } | null {
  if (!ctx.config.probes.enabled) return { state: 'skipped', message: 'probes disabled in agent.yaml' };
  if (!d.ceph || !d.probes || (!d.probes.rbd && !d.probes.quota)) return { state: 'not-configured', message: 'no probes in the desired state' };
  return null;
}

export async function checkProbes(ctx: StepContext, d: DesiredState): Promise<ProbeStatus[]> {
  const [{ rbdProbe }, { quotaProbe }] = await Promise.all([import('../ceph/probe-rbd.js'), import('../ceph/probe-quota.js')]);
  const ceph = d.ceph!;
  const client: CephClient = { monHost: ceph.monHost.join(','), id: ceph.clientId, keyringPath: keyringPath(ceph), confPath: CEPH_CONF_PATH, timeoutMs: ctx.config.probes.timeoutMs };
  const out: ProbeStatus[] = [];
  const run = async (name: string, f: () => Promise<ProbeResult>) => {
    try {
      const r = await f();
      out.push({ name: r.name, status: r.status, ok: r.ok, durationMs: r.durationMs, details: r.details, ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}) });
    } catch (e) {
      const err = e as NwError;
      out.push({ name, status: 'fail', ok: false, durationMs: 0, error: { code: err.code ?? 'NW_CEPH', message: err.message } });
    }
  };
  if (d.probes?.rbd) await run('rbd', () => rbdProbe(ctx.host, client, { pool: d.probes!.rbd!.pool }));
  if (d.probes?.quota) await run('cephfs-quota', () => quotaProbe(ctx.host, client, { ...d.probes!.quota!, node: ctx.config.node }));
  return out;
}

/** The probes' line in the step list: converged when all pass, failed (the worker is not ready) otherwise. */
export function probesReport(results: ProbeStatus[]): { state: StepState; message: string } {
  const bad = results.filter((p) => !p.ok);
  if (!bad.length) return { state: 'converged', message: 'converged' };
  return { state: 'failed', message: bad.map((p) => `${p.name}: ${p.error?.code ?? p.status} ${p.error?.message ?? ''}`.trim()).join('; ') };
}
