// The agent without a controller: `nodewright keygen` / `bundle sign|verify`, then
// `nodewright-agent plan|apply` against a sandbox --root (real processes).
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_CLI, CONTROLLER_CLI, KEY, KEYRING, desiredKeyringOnly, requireBuild, runCli, sandbox, type Sandbox } from './fixture.js';

let sb: Sandbox;

/** Every path under `dir` with its type, mode, size, mtime and content hash. */
function treeHash(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const sum = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : st.isSymbolicLink() ? readlinkSync(p) : '';
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${sum}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
beforeAll(async () => {
  requireBuild();
  sb = await sandbox();
});
afterAll(() => sb?.cleanup());

describe('nodewright keygen / bundle sign / bundle verify', () => {
  test('keygen writes a 0600 key and a .pub; sign + verify round trip; tampering is refused', () => {
    const key = path.join(sb.dir, 'op.key');
    const k = runCli(CONTROLLER_CLI, ['keygen', '--out', key]);
    expect(k.code, k.stderr).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(runCli(CONTROLLER_CLI, ['keygen', '--out', key]).stderr).toMatch(/^NW_USAGE: .*already exists/);
    const yaml = path.join(sb.dir, 'desired.yaml');
    writeFileSync(yaml, `schema: 1\ngeneration: 3\nceph:\n  fsid: 0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11\n  monHost: [127.0.0.1:3300]\n  clientId: k8s\n  keyring: |\n    [client.k8s]\n    \tkey = ${KEY}\n`);
    const out = path.join(sb.dir, 'signed.json');
    const s = runCli(CONTROLLER_CLI, ['bundle', 'sign', '--key', key, '--out', out, yaml]);
    expect(s.code, s.stderr).toBe(0);
    const v = runCli(CONTROLLER_CLI, ['bundle', 'verify', '--pub', `${key}.pub`, out]);
    expect(v.stdout).toMatch(/^OK generation=3 keyId=[0-9a-f]{16}/);
    const b = JSON.parse(readFileSync(out, 'utf8'));
    b.desired.generation = 4;
    writeFileSync(out, JSON.stringify(b));
    const bad = runCli(CONTROLLER_CLI, ['bundle', 'verify', '--pub', `${key}.pub`, out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^NW_SIGNATURE: bundle signature does not verify/);
    writeFileSync(yaml, 'schema: 1\ngeneration: -1\n');
    const inv = runCli(CONTROLLER_CLI, ['bundle', 'sign', '--key', key, yaml]);
    expect(inv.stderr).toMatch(/^NW_BUNDLE: .*\/generation/);
  });
});

describe('nodewright-agent plan / apply', () => {
  const bundleFile = () => {
    const f = path.join(sb.dir, 'b1.json');
    writeFileSync(f, JSON.stringify(sb.sign(desiredKeyringOnly(1))));
    return f;
  };
  test('plan prints the change with the key redacted and changes nothing', () => {
    const r = runCli(AGENT_CLI, ['plan', '--config', sb.config, '--bundle', bundleFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('== keyring: change');
    expect(r.stdout).toContain('+++ /etc/ceph/ceph.client.k8s.keyring');
    expect(r.stdout).toContain('+\tkey = <redacted>');
    expect(r.stdout).not.toContain(KEY);
    expect(r.stdout).toContain('== packages: skipped');
    expect(existsSync(sb.real('/etc/ceph'))).toBe(false);
  });
  test('apply writes keyring (0600) and ceph.conf once; a second apply is converged', () => {
    const r = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', bundleFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/keyring\s+changed/);
    expect(readFileSync(sb.real('/etc/ceph/ceph.client.k8s.keyring'), 'utf8')).toBe(KEYRING);
    expect(statSync(sb.real('/etc/ceph/ceph.client.k8s.keyring')).mode & 0o777).toBe(0o600);
    expect(readFileSync(sb.real('/etc/ceph/ceph.conf'), 'utf8')).toContain('mon host = 127.0.0.1:3300');
    expect(r.stderr).not.toContain(KEY);
    const ino = statSync(sb.real('/etc/ceph/ceph.conf')).ino;
    const again = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', bundleFile()]);
    expect(again.stdout).toMatch(/keyring\s+converged/);
    expect(statSync(sb.real('/etc/ceph/ceph.conf')).ino).toBe(ino);
    expect(statSync(sb.real('/var/lib/nodewright/state.json')).mode & 0o777).toBe(0o600);
  });
  test('plan changes nothing on disk: the sandbox tree hashes the same before and after', () => {
    // After apply: a stored bundle and state exist; the planned bundle also changes the kubelet binary.
    mkdirSync(sb.real('/usr/local/bin'), { recursive: true });
    writeFileSync(sb.real('/usr/local/bin/kubelet'), '#!/bin/sh\n# v1\n', { mode: 0o755 });
    const v2 = Buffer.from('#!/bin/sh\n# v2\n');
    writeFileSync(path.join(sb.dir, 'kubelet-v2'), v2);
    const d = {
      ...desiredKeyringOnly(2),
      ceph: { ...desiredKeyringOnly(2).ceph, monHost: ['127.0.0.1:3301'] },
      kubelet: { kind: 'binary', version: 'v2', sha256: createHash('sha256').update(v2).digest('hex'), size: v2.length, url: `file://${sb.dir}/kubelet-v2?token=SECRET` },
    };
    const f = path.join(sb.dir, 'b2.json');
    writeFileSync(f, JSON.stringify(sb.sign(d)));
    const before = treeHash(sb.dir);
    const r = runCli(AGENT_CLI, ['plan', '--config', sb.config, '--bundle', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('== keyring: change');
    expect(r.stdout).toContain('== artifact: change');
    expect(r.stdout).toContain('?<redacted>');
    expect(r.stdout).not.toContain('SECRET');
    expect(treeHash(sb.dir)).toEqual(before);
    const plain = runCli(AGENT_CLI, ['plan', '--config', sb.config]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(treeHash(sb.dir)).toEqual(before);
  });
  test('unsigned bundles and bad configs are refused with coded errors (exit 2)', () => {
    const f = path.join(sb.dir, 'unsigned.json');
    writeFileSync(f, JSON.stringify(desiredKeyringOnly(9)));
    const r = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_SIGNATURE: the bundle is not signed/);
    const cfg = path.join(sb.dir, 'bad.yaml');
    writeFileSync(cfg, 'listen: 127.0.0.1:1\nkubelet:\n  healthUrl: ftp://x\n');
    const c = runCli(AGENT_CLI, ['apply', '--config', cfg, '--bundle', f]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^NW_CONFIG: .*bad.yaml:3: \/kubelet\/healthUrl/);
  });
});
