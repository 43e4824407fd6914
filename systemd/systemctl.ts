// systemctl, always with a timeout, as the agent needs it: reload, restart, state, show.
import type { Exec } from '../host/exec.js';
import { NwError } from '../host/errors.js';

export interface SystemctlOptions {
  timeoutMs?: number;
}

const run = async (exec: Exec, args: string[], timeoutMs = 90_000) => {
  try {
    return await exec('systemctl', args, { timeoutMs });
  } catch (e) {
    if (e instanceof NwError && (e.code === 'NW_EXEC' || e.code === 'NW_EXEC_TIMEOUT')) {
      throw new NwError('NW_SYSTEMD', `systemctl ${args.join(' ')} failed: ${e.message}; see \`journalctl -u ${args[args.length - 1]}\``, e.details);
    }
    throw e;
  }
};

export async function daemonReload(exec: Exec, o: SystemctlOptions = {}): Promise<void> {
  await run(exec, ['daemon-reload'], o.timeoutMs);
}

export async function restartUnit(exec: Exec, unit: string, o: SystemctlOptions = {}): Promise<void> {
  await run(exec, ['restart', unit], o.timeoutMs);
}

/** `systemctl is-active` state word (active, activating, failed, inactive, …); never throws on non-active. */
export async function activeState(exec: Exec, unit: string, o: SystemctlOptions = {}): Promise<string> {
  const r = await exec('systemctl', ['is-active', unit], { timeoutMs: o.timeoutMs ?? 10_000, allowFailure: true });
  return r.stdout.trim() || 'unknown';
}

/** `systemctl show -p A -p B unit` as a map. Values are returned raw (Environment stays quoted). */
export async function showUnit(exec: Exec, unit: string, props: string[], o: SystemctlOptions = {}): Promise<Record<string, string>> {
  const r = await run(exec, ['show', unit, ...props.map((p) => `--property=${p}`)], o.timeoutMs ?? 15_000);
  return parseShowOutput(r.stdout);
}

export function parseShowOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
