// What a package contains and where install.sh puts it: pure planning, no I/O (package/build.ts
// does the work; test/unit/package/layout.test.ts checks the plans).
import { NwError } from '../host/errors.js';

export const PREFIX = '/opt/nodewright';
export const CONFIG_DIR = '/etc/nodewright';
export const UNIT_DIR = '/etc/systemd/system';
export const LINK_DIR = '/usr/local/bin';

export interface ComponentSpec {
  component: 'agent' | 'controller';
  /** the command (bin/<bin>, /usr/local/bin/<bin>) */
  bin: string;
  /** TS entry bundled into lib/<bin>.mjs, or lib/<bin>.cjs with a snapshot */
  entry: string;
  unit: string;
  config: string;
  /** install.sh starts the unit only when this file exists (the agent: always, its default config is installed first) */
  startIf: string;
  /** packages kept out of the bundle and shipped in lib/node_modules (native modules) */
  external: string[];
  /** packages left out altogether: code paths the component never takes (a stub throws if one ever does) */
  omit: string[];
  /**
   * Starts from a V8 startup snapshot, lib/<bin>.blob, built from the bundle at package time
   * (package/snapshot.ts); `side` modules stay out of it, in lib/<bin>-<name>.cjs.
   */
  snapshot?: { side: { entry: string; name: string }[] };
  /**
   * The bundle split at its dynamic imports (package/bundle.ts): a command reads and compiles only
   * the chunks its own group needs, not every group's code (bench P4).
   */
  split?: boolean;
  /**
   * Commands (first argv word) that start from a V8 startup snapshot of their own entry instead of
   * the bundle: lib/<bin>-<name>.cjs built into lib/<bin>-<name>.blob (package/snapshot.ts);
   * `omit` as above, for that bundle only (code those commands never reach).
   */
  fast?: { entry: string; name: string; commands: string[]; omit: string[] };
}

export const COMPONENTS: Record<ComponentSpec['component'], ComponentSpec> = {
  agent: {
    component: 'agent', bin: 'nodewright-agent', entry: 'agent/snapshot.ts', unit: 'nodewright-agent.service',
    config: 'agent.yaml', startIf: `${CONFIG_DIR}/agent.yaml`, external: [],
    // fastify's route-schema compilers (agent routes have no schemas: agent/server.ts) and its inject()
    // (tests only): ~0.5 MB less source for every start to hold (bench P1).
    omit: ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'light-my-request'],
    // join's X.509 stack (~290 KiB of source) is read once, at enrollment: not in every start's heap (bench P1).
    snapshot: { side: [{ entry: 'pki/index.ts', name: 'pki' }] },
  },
  controller: {
    component: 'controller', bin: 'nodewright', entry: 'controller/cli.ts', unit: 'nodewright-controller.service',
    config: 'controller.yaml', startIf: '/var/lib/nodewright-controller/controller.yaml', external: ['better-sqlite3'], omit: [],
    split: true,
    // the OpenStack lookups an operator runs often (bench P4); `serve` (fastify) stays on the bundle
    fast: { entry: 'controller/openstack-cli.ts', name: 'openstack', commands: ['hosts', 'hypervisors', 'servers', 'volume-types'], omit: ['../api/server.js'] },
  },
};

export const packageName = (c: ComponentSpec, version: string): string => `nodewright-${c.component}-${version}-linux-x64`;

/** The shipped unit with ExecStart pointing into the package; every other line (the hardening) kept as is. */
export function packagedUnit(text: string, c: ComponentSpec): string {
  const from = `ExecStart=/usr/local/bin/${c.bin} `;
  const lines = text.split('\n');
  const hits = lines.filter((l) => l.startsWith(from)).length;
  if (hits !== 1) throw new NwError('NW_PKG_BUILD', `systemd/units/${c.unit}: expected one line starting '${from}', found ${hits}; package/layout.ts derives the packaged unit from it`);
  return lines.map((l) => (l.startsWith(from) ? `ExecStart=${PREFIX}/bin/${c.bin} ${l.slice(from.length)}` : l)).join('\n');
}

/** The bundle in the package: ESM, or CommonJS as a snapshot's builder script. */
export const bundleFile = (c: ComponentSpec): string => `lib/${c.bin}.${c.snapshot ? 'cjs' : 'mjs'}`;
export const snapshotFile = (c: ComponentSpec): string => `lib/${c.bin}.blob`;
/** The fast path's bundle and snapshot (ComponentSpec.fast). */
export const fastFiles = (c: ComponentSpec): { bundle: string; blob: string } | undefined =>
  c.fast && { bundle: `lib/${c.bin}-${c.fast.name}.cjs`, blob: `lib/${c.bin}-${c.fast.name}.blob` };

/**
 * bin/<bin>: exec the package's own node on the bundle, or on its snapshot (`--` ends node's own
 * options there: `--version` is the CLI's); the fast path's commands on their own snapshot.
 * A symlink ($LINK_DIR/<bin>) is resolved; the unit's direct call forks nothing.
 */
export const wrapperScript = (c: ComponentSpec): string => {
  const fast = fastFiles(c);
  return `#!/bin/sh
# ${c.bin}: the package's own Node runs the bundled ${c.component} (never a node found on PATH).
p=$0; [ -L "$p" ] && p=$(readlink -f "$p")
case $p in /*) ;; *) p=$PWD/$p ;; esac
d=\${p%/bin/*}
${fast ? `case "$1" in ${c.fast!.commands.join('|')}) exec "$d/node/bin/node" --snapshot-blob "$d/${fast.blob}" -- "$@" ;; esac
` : ''}exec "$d/node/bin/node" ${c.snapshot ? `--snapshot-blob "$d/${snapshotFile(c)}" --` : `"$d/${bundleFile(c)}"`} "$@"
`;
};

/** `Environment=K=V …` lines of a unit (the forms our units use: unquoted or one "K=V" pair per quote). */
export function unitEnvironment(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitText.split('\n')) {
    const m = /^Environment=(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const [, q, bare] of m[1].matchAll(/"([^"]*)"|(\S+)/g)) {
      const kv = q ?? bare;
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return env;
}

export interface PackageFile {
  /** path inside the package's top directory */
  path: string;
  mode: number;
}

export type PlanEntry =
  | { kind: 'file'; src: string; dest: string; mode: number }
  | { kind: 'config'; src: string; dest: string; mode: number }
  | { kind: 'link'; target: string; dest: string }
  | { kind: 'unit'; name: string; wantedBy: string; startIf: string };

/** Where each package file goes. install.sh, MANIFEST and PLAN stay in the package. */
export function installPlan(c: ComponentSpec, files: PackageFile[]): PlanEntry[] {
  const plan: PlanEntry[] = [];
  const octal = (m: number) => m & 0o7777;
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    if (['install.sh', 'MANIFEST', 'PLAN'].includes(f.path)) continue;
    const top = f.path.split('/')[0];
    if (top === 'node' || top === 'lib' || top === 'bin') plan.push({ kind: 'file', src: f.path, dest: `${PREFIX}/${f.path}`, mode: octal(f.mode) });
    else if (f.path === `systemd/${c.unit}`) plan.push({ kind: 'file', src: f.path, dest: `${UNIT_DIR}/${c.unit}`, mode: 0o644 });
    else if (f.path === `etc/${c.config}`) plan.push({ kind: 'config', src: f.path, dest: `${CONFIG_DIR}/${c.config}`, mode: 0o600 });
    else throw new NwError('NW_PKG_BUILD', `package file ${f.path} has no place in the install plan (package/layout.ts)`);
  }
  const fast = fastFiles(c);
  for (const need of [`bin/${c.bin}`, bundleFile(c), ...(c.snapshot ? [snapshotFile(c)] : []), ...(fast ? [fast.bundle, fast.blob] : []), 'node/bin/node', `systemd/${c.unit}`, `etc/${c.config}`]) {
    if (!files.some((f) => f.path === need)) throw new NwError('NW_PKG_BUILD', `the ${c.component} package lacks ${need}`);
  }
  plan.push({ kind: 'link', target: `${PREFIX}/bin/${c.bin}`, dest: `${LINK_DIR}/${c.bin}` });
  plan.push({ kind: 'unit', name: c.unit, wantedBy: 'multi-user.target', startIf: c.startIf });
  return plan;
}

const mode = (m: number) => m.toString(8).padStart(4, '0');

/** PLAN: one tab-separated line per entry, read by install.sh (`while IFS=$'\t' read -r kind a b c`). */
export function planText(plan: PlanEntry[]): string {
  const row = (e: PlanEntry): string[] => {
    switch (e.kind) {
      case 'file':
      case 'config':
        return [e.kind, e.src, e.dest, mode(e.mode)];
      case 'link':
        return [e.kind, e.target, e.dest];
      case 'unit':
        return [e.kind, e.name, e.wantedBy, e.startIf];
    }
  };
  for (const e of plan) for (const f of row(e)) if (/[\t\n]/.test(f) || f === '') throw new NwError('NW_PKG_BUILD', `install plan field '${f}' is empty or has a tab or newline`);
  return plan.map((e) => `${row(e).join('\t')}\n`).join('');
}

/** MANIFEST: `sha256  path` for every package file but itself, the format `sha256sum -c` reads. */
export function manifestText(files: { path: string; sha256: string }[]): string {
  return [...files]
    .filter((f) => f.path !== 'MANIFEST')
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((f) => {
      if (!/^[0-9a-f]{64}$/.test(f.sha256) || /[\n\\]/.test(f.path)) throw new NwError('NW_PKG_BUILD', `manifest entry ${f.path}: bad sha256 or path`);
      return `${f.sha256}  ${f.path}\n`;
    })
    .join('');
}
