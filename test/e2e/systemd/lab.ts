// Talking to the lab container booted by setup.ts: run commands inside, install unit files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import type { UnitSources } from '../../../systemd/sources.js';

export const lab = () => inject('systemdLab');

/** Run a command inside the container (clean env, via lab/systemd/exec.sh). */
export function inside(args: string[], input?: string): string {
  const l = lab();
  try {
    return execFileSync(path.join(l.labDir, 'exec.sh'), args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LAB_NAME: l.name },
      encoding: 'utf8',
      input,
      timeout: 60_000,
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${args.join(' ')} failed inside ${l.name}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}\n(journal: lab/systemd/exec.sh journalctl -b with LAB_NAME=${l.name})`);
  }
}

export const UNIT_DIR = '/etc/systemd/system';

/** Write a unit and its drop-ins into the container's /etc (the lab's /etc is a host directory). */
export function install(src: UnitSources): void {
  const etc = lab().etc;
  const host = (p: string) => path.join(etc, path.posix.relative('/etc', p));
  rmSync(host(src.main.path + '.d'), { recursive: true, force: true });
  writeFileSync(host(src.main.path), src.main.text);
  for (const d of src.dropIns) {
    mkdirSync(path.dirname(host(d.path)), { recursive: true });
    writeFileSync(host(d.path), d.text);
  }
}

export function uninstall(unitPath: string): void {
  const etc = lab().etc;
  const host = path.join(etc, path.posix.relative('/etc', unitPath));
  rmSync(host, { force: true });
  rmSync(host + '.d', { recursive: true, force: true });
}

export const daemonReload = () => inside(['systemctl', 'daemon-reload']);

/** `systemctl show -p Environment -p NeedDaemonReload` of one unit. */
export function show(unit: string): { environment: string; needDaemonReload: string; loadState: string } {
  const out = inside(['systemctl', 'show', '-p', 'Environment', '-p', 'NeedDaemonReload', '-p', 'LoadState', '--', unit]);
  const get = (k: string) => out.split('\n').find((l) => l.startsWith(k + '='))?.slice(k.length + 1) ?? '';
  return { environment: 'Environment=' + get('Environment'), needDaemonReload: get('NeedDaemonReload'), loadState: get('LoadState') };
}

/** `systemctl show` of many units at once: Id -> {Environment line, NeedDaemonReload}. */
export function showMany(units: string[]): Map<string, { environment: string; needDaemonReload: string; loadState: string }> {
  const out = inside(['systemctl', 'show', '-p', 'Id', '-p', 'Environment', '-p', 'NeedDaemonReload', '-p', 'LoadState', '--', ...units]);
  const res = new Map<string, { environment: string; needDaemonReload: string; loadState: string }>();
  for (const block of out.split('\n\n')) {
    const lines = block.split('\n');
    const get = (k: string) => lines.find((l) => l.startsWith(k + '='))?.slice(k.length + 1) ?? '';
    if (get('Id')) res.set(get('Id'), { environment: 'Environment=' + get('Environment'), needDaemonReload: get('NeedDaemonReload'), loadState: get('LoadState') });
  }
  return res;
}
