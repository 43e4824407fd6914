// The Debian packages (nodewright-agent_<v>_amd64.deb, nodewright-controller_<v>_amd64.deb): what
// goes where and the control files, as pure text; package/deb-build.ts stages the tree and runs
// dpkg-deb. Same layout as the tarball (/opt/nodewright with the package's own Node), except what
// Debian policy places elsewhere: the unit in /lib/systemd/system, the command in /usr/bin.
// The maintainer scripts are what dh_installsystemd generates (compat 13), written out by hand.
import { NwError } from '../host/errors.js';
import { CONFIG_DIR, PREFIX, type ComponentSpec } from './layout.js';

export const DEB_UNIT_DIR = '/lib/systemd/system';
export const DEB_BIN_DIR = '/usr/bin';

export const debPackage = (c: ComponentSpec): string => `nodewright-${c.component}`;
export const debFileName = (c: ComponentSpec, version: string): string => `${debPackage(c)}_${debVersion(version)}_amd64.deb`;

/** package.json's semver as a Debian version: a pre-release sorts before its release (1.0.0-rc.1 → 1.0.0~rc.1). */
export function debVersion(version: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
  if (!m) throw new NwError('NW_PKG_BUILD', `package.json version '${version}' is not semver; the .deb version is derived from it`);
  return `${m[1]}${m[2] ? `~${m[2].replace(/-/g, '.')}` : ''}${m[3] ? `+${m[3].replace(/-/g, '.')}` : ''}`;
}

/**
 * What `purge` removes besides the conffiles dpkg removes itself: everything the component writes
 * at run time. `remove` leaves all of it (the operator's config, enrollment and state).
 */
export const PURGE_PATHS: Record<ComponentSpec['component'], string[]> = {
  // the agent's join writes token, certificate and key beside agent.yaml; StateDirectory=, CacheDirectory=
  agent: [CONFIG_DIR, '/var/lib/nodewright', '/var/cache/nodewright'],
  // DynamicUser=: systemd keeps the state in /var/lib/private and links it from /var/lib
  controller: ['/var/lib/nodewright-controller', '/var/lib/private/nodewright-controller'],
};

const DESCRIPTIONS: Record<ComponentSpec['component'], [string, string]> = {
  agent: [
    'nodewright worker agent (Ceph client and kubelet convergence)',
    'Converges a Kubernetes worker to the signed desired state its controller\nsends: the Ceph client configuration and keyring, the kubelet unit and binary.\nRuns as the hardened nodewright-agent.service on its own Node.js 24\n(in /opt/nodewright), so it needs no nodejs package.',
  ],
  controller: [
    'nodewright controller (enrollment, health polling, rollouts)',
    'Enrolls nodewright agents with one-time join tokens, polls their health over\nmutual TLS and rolls signed desired state out in waves. Runs as\nnodewright-controller.service on its own Node.js 24 (in /opt/nodewright).',
  ],
};

export interface DebFiles {
  /** package file (path in the staged tarball tree) → absolute path in the .deb */
  map: { src: string; dest: string; mode: number }[];
  /** absolute path → symlink target */
  links: { dest: string; target: string }[];
  conffiles: string[];
}

/** Where each staged tarball file goes in the .deb (install.sh, PLAN, MANIFEST stay out: dpkg does their job). */
export function debFiles(c: ComponentSpec, staged: { path: string; mode: number }[]): DebFiles {
  const map: DebFiles['map'] = [];
  for (const f of staged) {
    const top = f.path.split('/')[0];
    if (['install.sh', 'MANIFEST', 'PLAN'].includes(f.path)) continue;
    // lib/ is read by the package's node, never executed: bundles' #!/usr/bin/env node lines and the
    // native module's x bit would only invite running them with another node
    if (top === 'lib') map.push({ src: f.path, dest: `${PREFIX}/${f.path}`, mode: 0o644 });
    else if (top === 'node' || top === 'bin') map.push({ src: f.path, dest: `${PREFIX}/${f.path}`, mode: f.mode & 0o7777 });
    else if (f.path === `systemd/${c.unit}`) map.push({ src: f.path, dest: `${DEB_UNIT_DIR}/${c.unit}`, mode: 0o644 });
    else if (f.path === `etc/${c.config}`) map.push({ src: f.path, dest: `${CONFIG_DIR}/${c.config}`, mode: 0o600 });
    else throw new NwError('NW_PKG_BUILD', `package file ${f.path} has no place in the .deb (package/deb.ts)`);
  }
  return { map, links: [{ dest: `${DEB_BIN_DIR}/${c.bin}`, target: `${PREFIX}/bin/${c.bin}` }], conffiles: [`${CONFIG_DIR}/${c.config}`] };
}

/** DEBIAN/control. Depends: the shared libraries the packaged node (and better-sqlite3) link, and deb-systemd-helper. */
export function debControl(c: ComponentSpec, version: string, installedSizeKiB: number): string {
  const [short, long] = DESCRIPTIONS[c.component];
  const other = c.component === 'agent' ? 'nodewright-controller' : 'nodewright-agent';
  return [
    `Package: ${debPackage(c)}`,
    `Version: ${debVersion(version)}`,
    'Architecture: amd64',
    'Maintainer: nodewright maintainers <maintainers@nodewright.invalid>',
    `Installed-Size: ${installedSizeKiB}`,
    'Depends: init-system-helpers (>= 1.54~), libc6 (>= 2.28), libgcc-s1 (>= 3.0), libstdc++6 (>= 10)',
    // both ship the same /opt/nodewright/node and lib/pino: dpkg cannot share a file between packages
    `Conflicts: ${other}`,
    'Section: admin',
    'Priority: optional',
    `Description: ${short}`,
    ...long.split('\n').map((l) => ` ${l}`),
    '',
  ].join('\n');
}

export const debConffiles = (files: DebFiles): string => files.conffiles.map((f) => `${f}\n`).join('');

const sh = (lines: string[]) => ['#!/bin/sh', 'set -e', '', ...lines, '', 'exit 0', ''].join('\n');
const q = (s: string) => `'${s}'`;

/** postinst: dh_installsystemd's enable + start (restart on upgrade), as debhelper writes it. */
export function debPostinst(c: ComponentSpec): string {
  const u = q(c.unit);
  return sh([
    'if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then',
    `\tchmod 0700 ${CONFIG_DIR}`,
    '\t# This will only remove masks created by d-s-h on package removal.',
    `\tdeb-systemd-helper unmask ${u} >/dev/null || true`,
    '\t# was-enabled defaults to true, so new installations run enable.',
    `\tif deb-systemd-helper --quiet was-enabled ${u}; then`,
    `\t\tdeb-systemd-helper enable ${u} >/dev/null || true`,
    '\telse',
    `\t\tdeb-systemd-helper update-state ${u} >/dev/null || true`,
    '\tfi',
    'fi',
    'if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then',
    '\tif [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then',
    '\t\tsystemctl --system daemon-reload >/dev/null || true',
    '\t\tif [ -n "$2" ]; then',
    '\t\t\t_dh_action=restart',
    '\t\telse',
    '\t\t\t_dh_action=start',
    '\t\tfi',
    // a unit that cannot start yet (no config: the controller before `nodewright init`) fails no install
    `\t\tdeb-systemd-invoke $_dh_action ${u} >/dev/null || true`,
    '\tfi',
    'fi',
  ]);
}

/** prerm: stop on remove (an upgrade restarts in postinst instead). */
export function debPrerm(c: ComponentSpec): string {
  return sh([
    'if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = remove ] && [ -d /run/systemd/system ] ; then',
    `\tdeb-systemd-invoke stop ${q(c.unit)} >/dev/null || true`,
    'fi',
  ]);
}

/** postrm: mask on remove, forget the unit and delete config + state on purge. */
export function debPostrm(c: ComponentSpec): string {
  const u = q(c.unit);
  for (const p of PURGE_PATHS[c.component]) if (!/^\/[a-z0-9/_-]+$/.test(p) || p.split('/').length < 3) throw new NwError('NW_PKG_BUILD', `purge path ${p} is not a plain absolute path two levels deep`);
  return sh([
    'if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ] ; then',
    '\tsystemctl --system daemon-reload >/dev/null || true',
    'fi',
    'if [ "$1" = "remove" ]; then',
    '\tif [ -x "/usr/bin/deb-systemd-helper" ]; then',
    `\t\tdeb-systemd-helper mask ${u} >/dev/null || true`,
    '\tfi',
    'fi',
    'if [ "$1" = "purge" ]; then',
    '\tif [ -x "/usr/bin/deb-systemd-helper" ]; then',
    `\t\tdeb-systemd-helper purge ${u} >/dev/null || true`,
    `\t\tdeb-systemd-helper unmask ${u} >/dev/null || true`,
    '\tfi',
    ...PURGE_PATHS[c.component].map((p) => `\trm -rf ${p}`),
    // the controller's conffile dir: gone once dpkg removed controller.yaml, unless something else is in it
    `\trmdir ${CONFIG_DIR} 2>/dev/null || true`,
    'fi',
  ]);
}

/**
 * usr/share/lintian/overrides/<package>: each override with the reason it is right for this package.
 * lintian must stay clean otherwise (test/integration/package/lintian.test.ts).
 */
export function lintianOverrides(c: ComponentSpec): string {
  const p = debPackage(c);
  return `# nodewright is not part of Debian: it installs under /opt like its tarball (FHS 3.13, add-on
# application software), so both install methods share one layout, one unit and one set of docs.
${p}: dir-or-file-in-opt [opt/nodewright/*]
# The package runs on its own Node.js 24 (Debian 12 has 18): the official build, checksum-pinned
# in package/node-runtime.json and shipped byte for byte. That build links its own zlib, is not
# built as PIE and keeps its symbols; changing any of it would no longer be the pinned, verified runtime.
${p}: embedded-library zlib [opt/nodewright/node/bin/node]
${p}: hardening-no-pie [opt/nodewright/node/bin/node]
${p}: unstripped-binary-or-object [opt/nodewright/*]
${c.snapshot ? '' : `# The bundles in lib/ keep esbuild's #!/usr/bin/env node line but are only read by the package's
# own node (bin/${c.bin}); they are 0644 on purpose, so no other node on PATH runs them.
${p}: script-not-executable [opt/nodewright/lib/*]
`}# The config names the secret files (token, key) and, for the controller, may hold credentials: root-only.
${p}: non-standard-file-perm 0600 != 0644 [etc/nodewright/${c.config}]
# The command documents itself (\`${c.bin} --help\`; docs/ in the source); no separate man page yet.
${p}: no-manual-page [usr/bin/${c.bin}]
`;
}

export function debCopyright(): string {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nodewright

Files: *
Copyright: 2026 nodewright maintainers
License: proprietary
 The project has not published a license yet (package.json: private); until it
 does, no rights beyond running this package are granted.

Files: opt/nodewright/node/*
Copyright: Node.js contributors
License: Expat
 See /opt/nodewright/node/LICENSE (Node.js and the licenses of its bundled
 dependencies).
`;
}

/** usr/share/doc/<package>/changelog.gz's text (a native package: one entry per release). */
export function debChangelog(c: ComponentSpec, version: string, date: Date): string {
  const rfc2822 = date.toUTCString().replace(/GMT$/, '+0000').replace(/^(\w+), (\d+) (\w+) (\d+)/, (_m, d, n, mo, y) => `${d}, ${n.padStart(2, '0')} ${mo} ${y}`);
  return `${debPackage(c)} (${debVersion(version)}) unstable; urgency=medium

  * Release ${version}: see CHANGELOG.md in the source for the changes.

 -- nodewright maintainers <maintainers@nodewright.invalid>  ${rfc2822}
`;
}
