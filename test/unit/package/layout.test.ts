import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPONENTS, installPlan, manifestText, packagedUnit, planText, wrapperScript, type PackageFile } from '../../../package/layout.js';
import { runtimeClosure } from '../../../package/native.js';

const agent = COMPONENTS.agent;
const controller = COMPONENTS.controller;
const files = (paths: string[]): PackageFile[] => paths.map((p) => ({ path: p, mode: p.startsWith('bin/') || p === 'node/bin/node' ? 0o100755 : 0o100644 }));
const CONTROLLER_FILES = ['node/bin/node', 'lib/nodewright.mjs', 'lib/nodewright-openstack.cjs', 'lib/nodewright-openstack.blob', 'lib/node_modules/better-sqlite3/package.json', 'bin/nodewright', 'systemd/nodewright-controller.service', 'etc/controller.yaml'];
const AGENT_FILES = ['install.sh', 'MANIFEST', 'PLAN', 'node/bin/node', 'node/LICENSE', 'lib/nodewright-agent.cjs', 'lib/nodewright-agent.blob', 'lib/nodewright-agent-pki.cjs', 'lib/pino/pino-pretty.mjs', 'bin/nodewright-agent', 'systemd/nodewright-agent.service', 'etc/agent.yaml'];

describe('packagedUnit', () => {
  for (const c of [agent, controller]) {
    it(`${c.unit}: only ExecStart changes, to /opt/nodewright/bin/${c.bin}`, () => {
      const shipped = readFileSync(`systemd/units/${c.unit}`, 'utf8');
      const packaged = packagedUnit(shipped, c);
      const a = shipped.split('\n');
      const b = packaged.split('\n');
      expect(b.length).toBe(a.length);
      const changed = b.filter((l, i) => l !== a[i]);
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatch(new RegExp(`^ExecStart=/opt/nodewright/bin/${c.bin} `));
    });
  }
  it('refuses a unit whose ExecStart it does not recognise', () => {
    expect(() => packagedUnit('[Service]\nExecStart=/usr/bin/other run\n', agent)).toThrow(/NW_PKG_BUILD|expected one line/);
  });
});

describe('installPlan', () => {
  it('puts code under /opt/nodewright, the unit in /etc/systemd/system, the config in /etc/nodewright, a link in /usr/local/bin', () => {
    const plan = installPlan(agent, files(AGENT_FILES));
    const dest = Object.fromEntries(plan.flatMap((e) => ('src' in e ? [[e.src, `${e.kind} ${e.dest} ${e.mode.toString(8)}`]] : [])));
    expect(dest).toEqual({
      'bin/nodewright-agent': 'file /opt/nodewright/bin/nodewright-agent 755',
      'etc/agent.yaml': 'config /etc/nodewright/agent.yaml 600',
      'lib/nodewright-agent-pki.cjs': 'file /opt/nodewright/lib/nodewright-agent-pki.cjs 644',
      'lib/nodewright-agent.blob': 'file /opt/nodewright/lib/nodewright-agent.blob 644',
      'lib/nodewright-agent.cjs': 'file /opt/nodewright/lib/nodewright-agent.cjs 644',
      'lib/pino/pino-pretty.mjs': 'file /opt/nodewright/lib/pino/pino-pretty.mjs 644',
      'node/LICENSE': 'file /opt/nodewright/node/LICENSE 644',
      'node/bin/node': 'file /opt/nodewright/node/bin/node 755',
      'systemd/nodewright-agent.service': 'file /etc/systemd/system/nodewright-agent.service 644',
    });
    expect(plan).toContainEqual({ kind: 'link', target: '/opt/nodewright/bin/nodewright-agent', dest: '/usr/local/bin/nodewright-agent' });
    expect(plan.at(-1)).toEqual({ kind: 'unit', name: 'nodewright-agent.service', wantedBy: 'multi-user.target', startIf: '/etc/nodewright/agent.yaml' });
  });

  it('the controller starts only once `nodewright init` wrote its config', () => {
    const plan = installPlan(controller, files(CONTROLLER_FILES));
    expect(plan.at(-1)).toMatchObject({ kind: 'unit', startIf: '/var/lib/nodewright-controller/controller.yaml' });
    expect(plan).toContainEqual(expect.objectContaining({ src: 'lib/node_modules/better-sqlite3/package.json', dest: '/opt/nodewright/lib/node_modules/better-sqlite3/package.json' }));
  });

  it('refuses a package missing a required file, or carrying a file with no place', () => {
    expect(() => installPlan(agent, files(AGENT_FILES.filter((f) => f !== 'node/bin/node')))).toThrow(/lacks node\/bin\/node/);
    expect(() => installPlan(agent, files([...AGENT_FILES, 'stray.txt']))).toThrow(/stray\.txt has no place/);
  });

  it('PLAN is one tab-separated line per entry, modes in octal', () => {
    const text = planText(installPlan(agent, files(AGENT_FILES)));
    expect(text.split('\n')).toContain('file\tnode/bin/node\t/opt/nodewright/node/bin/node\t0755');
    expect(text.split('\n')).toContain('unit\tnodewright-agent.service\tmulti-user.target\t/etc/nodewright/agent.yaml');
    expect(() => planText([{ kind: 'link', target: 'a\tb', dest: '/x' }])).toThrow(/tab or newline/);
  });
});

describe('manifestText', () => {
  it('is sha256sum -c input, sorted, without itself', () => {
    const sha = 'a'.repeat(64);
    expect(manifestText([{ path: 'lib/x.mjs', sha256: sha }, { path: 'MANIFEST', sha256: sha }, { path: 'bin/x', sha256: sha }])).toBe(`${sha}  bin/x\n${sha}  lib/x.mjs\n`);
    expect(() => manifestText([{ path: 'x', sha256: 'nothex' }])).toThrow(/bad sha256/);
  });
});

describe('wrapperScript', () => {
  it('execs the package node on the bundle, resolving a symlinked $0', () => {
    const s = wrapperScript(controller);
    expect(s).toMatch(/^#!\/bin\/sh\n/);
    expect(s).toContain('exec "$d/node/bin/node" "$d/lib/nodewright.mjs" "$@"');
    expect(s).toContain('[ -L "$p" ] && p=$(readlink -f "$p")');
  });
  it("starts the agent from its snapshot; `--` keeps the CLI's options from node", () => {
    expect(wrapperScript(agent)).toContain('exec "$d/node/bin/node" --snapshot-blob "$d/lib/nodewright-agent.blob" -- "$@"');
  });
  it('refuses an agent package without its snapshot', () => {
    expect(() => installPlan(agent, files(AGENT_FILES.filter((f) => !f.endsWith('.blob'))))).toThrow(/lacks lib\/nodewright-agent\.blob/);
  });
  it('starts the controller\'s OpenStack commands from their snapshot, every other word (serve too) from the bundle', () => {
    const s = wrapperScript(controller);
    expect(s).toContain('case "$1" in hosts|hypervisors|servers|volume-types) exec "$d/node/bin/node" --snapshot-blob "$d/lib/nodewright-openstack.blob" -- "$@" ;; esac\nexec "$d/node/bin/node" "$d/lib/nodewright.mjs" "$@"');
    expect(() => installPlan(controller, files(CONTROLLER_FILES.filter((f) => !f.endsWith('openstack.blob'))))).toThrow(/lacks lib\/nodewright-openstack\.blob/);
  });
});

describe('runtimeClosure', () => {
  it('follows run-time dependencies from package-lock.json, not install-time ones', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    const names = [...runtimeClosure(lock, 'better-sqlite3').keys()];
    expect(names).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path']);
    expect(() => runtimeClosure({ packages: {} }, 'better-sqlite3')).toThrow(/no node_modules\/better-sqlite3/);
  });
});

describe('engines', () => {
  it('package.json names the dev Node (20) and the shipped one (the pinned runtime)', () => {
    const engines = JSON.parse(readFileSync('package.json', 'utf8')).engines.node as string;
    const pin = JSON.parse(readFileSync('package/node-runtime.json', 'utf8')) as { version: string };
    expect(engines.split('||').map((s) => s.trim())).toEqual(['^20.19.0', `^${pin.version}`]);
  });
});
