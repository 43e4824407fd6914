// The kubelet health gate: the unit is active and its healthz answers 200 continuously for
// `minHealthyMs` (one 200 from a crash-looping kubelet is not health), all within a timeout.
import type { ClientRequest } from 'node:http';
import type { Exec } from '../host/exec.js';
import type { Clock } from '../host/clock.js';
import { activeState, showUnit } from '../systemd/systemctl.js';

export interface HealthResult {
  ok: boolean;
  reason: string;
  waitedMs: number;
}

/**
 * One GET of the kubelet's healthz. node:http, not fetch: the shipped unit runs node --jitless,
 * and fetch (undici) needs WebAssembly, which --jitless turns off.
 */
export function probeHealthz(url: string, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
    let req: ClientRequest;
    try {
      req = client.get(url, { signal: AbortSignal.timeout(timeoutMs) }, (res) => {
        res.resume();
        res.on('error', () => undefined);
        resolve({ ok: res.statusCode === 200, detail: `healthz ${res.statusCode}` });
      });
    } catch (e) {
      return resolve({ ok: false, detail: `healthz unreachable (${(e as NodeJS.ErrnoException).code ?? (e as Error).name})` });
    }
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: `healthz unreachable (${e.code === 'ABORT_ERR' ? 'TimeoutError' : (e.code ?? e.name)})` }));
  });
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
  const restartsBefore = await restarts(exec, o.unit);
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
      const loop = await crashLoop(exec, o.unit, restartsBefore);
      return { ok: false, reason: `not healthy within ${Math.round(o.timeoutMs / 1000)} s: ${last}${loop}`, waitedMs: clock.now() - t0 };
    }
    await clock.sleep(o.intervalMs ?? 250);
  }
}

/** systemd's count of the unit's automatic restarts (Restart=), or null when it cannot be read. */
async function restarts(exec: Exec, unit: string): Promise<{ n: number; code: string; status: string } | null> {
  try {
    const p = await showUnit(exec, unit, ['NRestarts', 'ExecMainCode', 'ExecMainStatus']);
    const n = Number(p.NRestarts);
    return Number.isInteger(n) && p.NRestarts !== '' ? { n, code: p.ExecMainCode ?? '', status: p.ExecMainStatus ?? '' } : null;
  } catch {
    return null;
  }
}

/**
 * Why a kubelet that crash-loops looks "active" at one sample and "activating" at the next: how
 * often systemd restarted it during the gate and how its last run ended (CLD_EXITED = 1, else a
 * signal), so the operator reads the crash loop, not the state at the last sample.
 */
async function crashLoop(exec: Exec, unit: string, before: { n: number } | null): Promise<string> {
  const now = before && (await restarts(exec, unit));
  if (!before || !now || now.n <= before.n) return '';
  const times = now.n - before.n;
  const ended = now.code === '1' ? `, last exit status ${now.status}` : now.code === '2' || now.code === '3' ? `, last killed by signal ${now.status}` : '';
  return `; systemd restarted ${unit} ${times} time${times === 1 ? '' : 's'} meanwhile${ended} (see \`journalctl -u ${unit}\`)`;
}
