// packages: ceph-common for a native kubelet; rkt hosts get the ceph client from the hyperkube image.
import { NwError } from '../../host/errors.js';
import { detectPackageManager, installPackages, isInstalled, type PackageManagerName } from '../../host/packages.js';
import type { DesiredState } from '../../protocol/desired.js';
import type { Step } from './types.js';

export interface PackagesObserved {
  manager: PackageManagerName | null;
  installed: Record<string, boolean>;
}
export interface PackagesPlan {
  manager: PackageManagerName;
  install: string[];
}

export const wantedPackages = (d: DesiredState) => d.packages?.names ?? ['ceph-common'];

export function planPackages(o: PackagesObserved, d: DesiredState): PackagesPlan | null {
  const missing = wantedPackages(d).filter((p) => !o.installed[p]);
  if (!missing.length) return null;
  if (!o.manager) {
    throw new NwError(
      'NW_PACKAGES',
      `${missing.join(', ')} missing and no known package manager (apt-get, dnf, yum) on this host: install them by hand or set packages.policy to "skip"`,
    );
  }
  return { manager: o.manager, install: missing };
}

export const packagesStep: Step<PackagesObserved, PackagesPlan, null> = {
  name: 'packages',
  async skip(d) {
    if (d.packages?.policy === 'skip') return { state: 'skipped', message: 'packages.policy is skip' };
    if ((d.runtime ?? 'rkt') === 'rkt' || d.kubelet?.kind === 'image') {
      return { state: 'skipped', message: 'rkt host: the kubelet image carries the ceph client' };
    }
    return null;
  },
  async observe(ctx, d) {
    const pm = await detectPackageManager(ctx.host);
    const installed: Record<string, boolean> = {};
    for (const p of wantedPackages(d)) installed[p] = pm ? await isInstalled(ctx.host, pm, p) : false;
    return { manager: pm?.name ?? null, installed };
  },
  plan: planPackages,
  render: (p) => `${p.manager} install ${p.install.join(' ')}`,
  newUndo: () => null,
  async apply(ctx, p) {
    const pm = (await detectPackageManager(ctx.host))!;
    await installPackages(ctx.host, pm, p.install);
  },
  async verify(ctx, p) {
    const pm = (await detectPackageManager(ctx.host))!;
    for (const name of p.install) {
      if (!(await isInstalled(ctx.host, pm, name))) throw new NwError('NW_PACKAGES', `${name} is still not installed after ${pm.name} install`);
    }
    return `installed ${p.install.join(' ')}`;
  },
  async rollback() {
    return { note: 'packages are left as installed', restored: false };
  },
};
