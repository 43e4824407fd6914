// probes: prove the worker can use Ceph (rbd + cephfs quota) with the installed keyring.
// A small adapter over the ceph/ probes (rbd create/info/rm, ceph-fuse quota).
import type { NwError } from '../../host/errors.js';
import type { Host } from '../../host/index.js';
import { keyringPath, CEPH_CONF_PATH, type DesiredState } from '../../protocol/desired.js';
import type { ProbeStatus } from '../../protocol/status.js';
import type { Step } from './types.js';
import type { ProbeResult } from '../../ceph/probe.js';
import type { CephClient } from '../../ceph/client.js';

export async function runProbes(host: Host, d: DesiredState, timeoutMs: number): Promise<ProbeStatus[] | null> {
  if (!d.ceph || !d.probes || (!d.probes.rbd && !d.probes.quota)) return null;
  const [{ rbdProbe }, { quotaProbe }] = await Promise.all([import('../../ceph/probe-rbd.js'), import('../../ceph/probe-quota.js')]);
  const client: CephClient = { monHost: d.ceph.monHost.join(','), id: d.ceph.clientId, keyringPath: keyringPath(d.ceph), confPath: CEPH_CONF_PATH, timeoutMs };
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
  if (d.probes.rbd) await run('rbd', () => rbdProbe(host, client, { pool: d.probes!.rbd!.pool }));
  if (d.probes.quota) await run('cephfs-quota', () => quotaProbe(host, client, d.probes!.quota!));
  return out;
}

export const probesStep: Step<ProbeStatus[] | null, ProbeStatus[], null> = {
  name: 'probes',
  async skip(d, ctx) {
    if (!ctx.config.probes.enabled) return { state: 'skipped', message: 'probes disabled in agent.yaml' };
    if (!d.probes || (!d.probes.rbd && !d.probes.quota)) return { state: 'not-configured', message: 'no probes in the desired state' };
    return null;
  },
  observe: async (ctx, d) => {
    const r = await runProbes(ctx.host, d, ctx.config.probes.timeoutMs);
    await ctx.state.update((s) => {
      s.probes = r ?? [];
    });
    return r;
  },
  // Probes change nothing: a failing probe is reported as a hold (the worker is not ready).
  plan(observed) {
    if (observed === null) return { hold: true, state: 'not-configured', message: 'no probes in the desired state' };
    const bad = observed.filter((p) => !p.ok);
    if (bad.length) {
      return { hold: true, state: 'failed', message: bad.map((p) => `${p.name}: ${p.error?.code ?? p.status} ${p.error?.message ?? ''}`.trim()).join('; ') };
    }
    return null;
  },
  render: () => '',
  newUndo: () => null,
  async apply() {},
  async verify() {
    return '';
  },
  async rollback() {
    return { note: '', restored: false };
  },
};
