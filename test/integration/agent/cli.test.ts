// The agent without a controller: `nodewright keygen` / `bundle sign|verify`, then
// `nodewright-agent plan|apply` against a sandbox --root (real processes).
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_CLI, CONTROLLER_CLI, KEY, KEYRING, desiredKeyringOnly, requireBuild, runCli, sandbox, type Sandbox } from './fixture.js';

let sb: Sandbox;
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
