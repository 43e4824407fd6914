// The agent as a systemd-sysext image (nodewright-agent-<v>-x86-64.raw) for Flatcar and other
// image-based hosts: everything under /usr (usr/lib/nodewright-agent with the package's own Node,
// usr/bin/nodewright-agent, the unit in usr/lib/systemd/system), configuration stays in
// /etc/nodewright. Pure planning; package/sysext-build.ts runs mksquashfs.
import { NwError } from '../host/errors.js';
import { CONFIG_DIR, PREFIX, type ComponentSpec } from './layout.js';

export const SYSEXT_PREFIX = '/usr/lib/nodewright-agent';
/** systemd's name for the architecture (os-release(5) ARCHITECTURE=, uname x86_64). */
export const SYSEXT_ARCH = 'x86-64';
export const sysextName = (c: ComponentSpec): string => `nodewright-${c.component}`;
export const sysextFileName = (c: ComponentSpec, version: string): string => `${sysextName(c)}-${version}-${SYSEXT_ARCH}.raw`;

/**
 * usr/lib/extension-release.d/extension-release.<name>: ID=_any merges on any OS (the image needs
 * nothing of the host's /usr but glibc, libstdc++ and systemd); ARCHITECTURE= is still checked.
 * SYSEXT_LEVEL= is what an ID=flatcar image would be matched on; kept for tools that read it.
 */
export function extensionRelease(version: string): string {
  return `ID=_any\nSYSEXT_LEVEL=1.0\nARCHITECTURE=${SYSEXT_ARCH}\nVERSION_ID=${version}\n`;
}

/**
 * The packaged unit (package/layout.ts packagedUnit) run from /usr: ExecStart into the image, and no start before the operator's config exists
 * (the image cannot ship /etc/nodewright/agent.yaml; Ignition or the operator writes it).
 */
export function sysextUnit(packagedUnitText: string, c: ComponentSpec): string {
  const from = `ExecStart=${PREFIX}/bin/${c.bin} `;
  if (packagedUnitText.split('\n').filter((l) => l.startsWith(from)).length !== 1) throw new NwError('NW_PKG_BUILD', `the packaged ${c.unit} has no single line starting '${from}'`);
  const unit = packagedUnitText.replace(from, `ExecStart=${SYSEXT_PREFIX}/bin/${c.bin} `);
  return unit.replace(/^\[Unit\]\n/m, `[Unit]\nConditionPathExists=${CONFIG_DIR}/${c.config}\n`);
}

/** The unit is enabled by the image itself: a wants link under /usr merges and unmerges with it. */
export const sysextWantsLink = (c: ComponentSpec): { dest: string; target: string } => ({ dest: `usr/lib/systemd/system/multi-user.target.wants/${c.unit}`, target: `../${c.unit}` });
