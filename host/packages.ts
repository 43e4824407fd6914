// Package managers behind one seam: which one the worker has, what is installed, install.
// Queries run in the agent's sandbox (read-only); installs write /usr, /var/lib/dpkg, /etc, which
// the agent's unit (ProtectSystem=strict, no capabilities) cannot, so on a systemd-booted worker
// they run in their own transient unit (host/transient.ts).
import type { Host } from './index.js';
import { NwError } from './errors.js';
import { runTransient, systemdBooted } from './transient.js';

export type PackageManagerName = 'apt' | 'dnf' | 'yum';

export interface PackageManager {
  name: PackageManagerName;
  /** Command + args that print whether one package is installed (exit 0 = installed). */
  queryCommand(pkg: string): [string, string[]];
  installCommand(pkgs: string[]): [string, string[]];
  /** Refresh the package lists before an install (apt's are often stale or, on a fresh image, empty). */
  refreshCommand?: [string, string[]];
  env: Record<string, string>;
}

const MANAGERS: { name: PackageManagerName; probe: string; pm: PackageManager }[] = [
  {
    name: 'apt',
    probe: '/usr/bin/apt-get',
    pm: {
      name: 'apt',
      queryCommand: (p) => ['dpkg-query', ['-W', '-f=${Status}', p]],
      installCommand: (ps) => ['apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', ...ps]],
      refreshCommand: ['apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=120']],
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    },
  },
  {
    name: 'dnf',
    probe: '/usr/bin/dnf',
    pm: { name: 'dnf', queryCommand: (p) => ['rpm', ['-q', p]], installCommand: (ps) => ['dnf', ['install', '-y', ...ps]], env: {} },
  },
  {
    name: 'yum',
    probe: '/usr/bin/yum',
    pm: { name: 'yum', queryCommand: (p) => ['rpm', ['-q', p]], installCommand: (ps) => ['yum', ['install', '-y', ...ps]], env: {} },
  },
];

/** The first known package manager present under the host root, or null. */
export async function detectPackageManager(host: Host): Promise<PackageManager | null> {
  for (const m of MANAGERS) if (await host.fs.exists(m.probe)) return m.pm;
  return null;
}

export async function requirePackageManager(host: Host): Promise<PackageManager> {
  const pm = await detectPackageManager(host);
  if (!pm) {
    throw new NwError(
      'NW_PACKAGES',
      'no known package manager (apt-get, dnf, yum) on this host: install ceph-common by hand or set the bundle\'s packages.policy to "skip"',
    );
  }
  return pm;
}

export async function isInstalled(host: Host, pm: PackageManager, pkg: string): Promise<boolean> {
  const [cmd, args] = pm.queryCommand(pkg);
  const r = await host.exec(cmd, args, { allowFailure: true, timeoutMs: 30_000, env: pm.env });
  if (r.exitCode !== 0) return false;
  return pm.name === 'apt' ? /install ok installed/.test(r.stdout) : true;
}

/** Limit for one package-manager run (a refresh or an install). */
export const INSTALL_TIMEOUT_SEC = 15 * 60;

/** What the install unit may do: write the OS, not read homes or share /tmp. */
export const INSTALL_UNIT_PROPERTIES = ['ProtectHome=yes', 'PrivateTmp=yes', 'ProtectKernelModules=yes', 'ProtectKernelLogs=yes', 'ProtectClock=yes'];

export async function installPackages(host: Host, pm: PackageManager, pkgs: string[]): Promise<void> {
  const transient = await systemdBooted(host);
  const run = async ([cmd, args]: [string, string[]]) => {
    if (!transient) return host.exec(cmd, args, { timeoutMs: INSTALL_TIMEOUT_SEC * 1000, env: pm.env });
    return runTransient(host, { prefix: 'nodewright-pkg', command: [cmd, ...args], env: { ...pm.env, LANG: 'C.UTF-8' }, properties: INSTALL_UNIT_PROPERTIES, timeoutSec: INSTALL_TIMEOUT_SEC });
  };
  try {
    if (pm.refreshCommand) await run(pm.refreshCommand);
    await run(pm.installCommand(pkgs));
  } catch (e) {
    const err = e as NwError;
    throw new NwError('NW_PACKAGES', `${pm.name} could not install ${pkgs.join(' ')}: ${err.message}; check the package sources on this host`, err.details);
  }
}
