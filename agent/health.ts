// The kubelet health gate: the unit is active and its healthz answers 200 continuously for
// `minHealthyMs` (one 200 from a crash-looping kubelet is not health), all within a timeout.
import type { Exec } from '../host/exec.js';
import type { Clock } from '../host/clock.js';
import { activeState } from '../systemd/systemctl.js';

export interface HealthResult {
  ok: boolean;
  reason: string;
  waitedMs: number;
}

export async function probeHealthz(url: string, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer().catch(() => undefined);
    return { ok: r.status === 200, detail: `healthz ${r.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { ok: false, detail: `healthz unreachable (${err.cause?.code ?? err.name})` };
  }
}

export async function waitHealthy(
  exec: Exec,
  clock: Clock,
  o: { unit: string; url: string; timeoutMs: number; minHealthyMs?: number; intervalMs?: number },
): Promise<HealthResult> {
  const t0 = clock.now();
  const minMs = o.minHealthyMs ?? 0;
  const secs = (ms: number) => Math.round(ms / 100) / 10;
  let healthySince: number | null = null;
  let last = 'not checked';
  for (;;) {
    const state = await activeState(exec, o.unit);
    if (state === 'active') {
      const h = await probeHealthz(o.url, Math.min(2000, o.timeoutMs));
      if (h.ok) {
        const now = clock.now();
        healthySince ??= now;
        if (now - healthySince >= minMs) {
          return { ok: true, reason: `${o.unit} active, ${h.detail}${minMs > 0 ? ` for ${secs(now - healthySince)} s` : ''}`, waitedMs: now - t0 };
        }
        last = `${o.unit} active, ${h.detail} for only ${secs(now - healthySince)} s of the required ${secs(minMs)} s`;
      } else {
        if (healthySince !== null) last = `${o.unit} active but ${h.detail} after ${secs(clock.now() - healthySince)} s of health`;
        else last = `${o.unit} active but ${h.detail}`;
        healthySince = null;
      }
    } else {
      last = healthySince !== null ? `${o.unit} became ${state} after ${secs(clock.now() - healthySince)} s of health` : `${o.unit} is ${state}`;
      healthySince = null;
    }
    if (clock.now() - t0 >= o.timeoutMs) {
      return { ok: false, reason: `not healthy within ${Math.round(o.timeoutMs / 1000)} s: ${last}`, waitedMs: clock.now() - t0 };
    }
    await clock.sleep(o.intervalMs ?? 250);
  }
}
