// Commands that need more power than the agent's sandbox (package installs, FUSE mounts) run in
// their own transient unit started by PID 1 (`systemd-run`): outside the agent's mount namespace,
// capability set and system-call filter, with only the properties the job needs. PID 1 only checks
// that the caller's uid is 0, so the agent needs no capability to ask for one.
import { randomBytes } from 'node:crypto';
import type { Host } from './index.js';
import type { ExecResult } from './exec.js';
import { NwError } from './errors.js';

export interface TransientSpec {
  /** unit name prefix, e.g. "nodewright-pkg" (a random suffix makes it unique) */
  prefix: string;
  command: string[];
  /** systemd properties, e.g. ["RuntimeMaxSec=900", "ProtectHome=yes"] */
  properties?: string[];
  env?: Record<string, string>;
  /** hard limit for the unit; PID 1 stops it when it passes */
  timeoutSec: number;
}

/** The worker's root was booted by systemd: transient units are available. */
export const systemdBooted = (host: Host) => host.fs.exists('/run/systemd/system');

export const transientUnitName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

const envArgs = (env: Record<string, string> = {}) => Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`);

/** argv of `systemd-run` for a job whose exit status and output come back to the caller. */
export function waitedRunArgs(unit: string, s: TransientSpec): string[] {
  return [
    '--wait', '--pipe', '--collect', '--quiet', `--unit=${unit}`, '--service-type=exec',
    `--property=RuntimeMaxSec=${s.timeoutSec}`,
    ...(s.properties ?? []).map((p) => `--property=${p}`),
    ...envArgs(s.env),
    '--', ...s.command,
  ];
}

/**
 * Run a command in a transient unit and wait for it: its stdout/stderr are ours (--pipe) and its
 * exit status is systemd-run's. Our own timeout sits a little above the unit's RuntimeMaxSec, so
 * PID 1 stops the unit first and systemd-run reports it.
 */
export async function runTransient(host: Host, s: TransientSpec, o: { allowFailure?: boolean } = {}): Promise<ExecResult & { unit: string }> {
  const unit = transientUnitName(s.prefix);
  try {
    const r = await host.exec('systemd-run', waitedRunArgs(unit, s), { timeoutMs: (s.timeoutSec + 15) * 1000, allowFailure: o.allowFailure });
    return { ...r, unit };
  } catch (e) {
    if (e instanceof NwError && e.code === 'NW_EXEC_TIMEOUT') {
      await stopUnit(host, unit);
      throw new NwError('NW_EXEC_TIMEOUT', `${s.command.join(' ')} (transient unit ${unit}) did not finish within ${s.timeoutSec} s and was stopped`, { unit, ...e.details });
    }
    if (e instanceof NwError) throw new NwError(e.code, `${e.message} (transient unit ${unit})`, { unit, ...e.details });
    throw e;
  }
}

/** argv of `systemd-run` for a daemon that stays after start (e.g. ceph-fuse): returns once it is up or failed. */
export function startedRunArgs(unit: string, s: TransientSpec & { serviceType: 'forking' | 'exec' }): string[] {
  return [
    '--quiet', `--unit=${unit}`, `--service-type=${s.serviceType}`,
    `--property=TimeoutStartSec=${s.timeoutSec}`,
    ...(s.properties ?? []).map((p) => `--property=${p}`),
    ...envArgs(s.env),
    '--', ...s.command,
  ];
}

export interface UnitExit {
  activeState: string;
  result: string;
  /** the main process's exit code or signal number (ExecMainStatus) */
  status: number;
  /** "exited", "killed", "dumped" (ExecMainCode as systemctl names it) */
  code: string;
}

export async function unitExit(host: Host, unit: string): Promise<UnitExit> {
  const r = await host.exec('systemctl', ['show', unit, '-p', 'ActiveState', '-p', 'Result', '-p', 'ExecMainStatus', '-p', 'ExecMainCode'], { timeoutMs: 10_000, allowFailure: true });
  const v = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { activeState: v.ActiveState ?? 'unknown', result: v.Result ?? 'unknown', status: Number(v.ExecMainStatus ?? -1), code: v.ExecMainCode ?? '' };
}

/** Stop a transient unit and forget a failed one (nothing is left in `systemctl --failed`). */
export async function stopUnit(host: Host, unit: string): Promise<void> {
  await host.exec('systemctl', ['stop', unit], { timeoutMs: 30_000, allowFailure: true }).catch(() => undefined);
  await host.exec('systemctl', ['reset-failed', unit], { timeoutMs: 10_000, allowFailure: true }).catch(() => undefined);
}
