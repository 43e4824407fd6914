// Schema patterns on every signed field that reaches a file or argv, and the new signed
// fields (nodes, notAfter).
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { sign } from 'node:crypto';
import { canonicalJson } from '../../../protocol/canonical.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signBundle, verifyBundle } from '../../../protocol/bundle.js';
import { parseDesiredState } from '../../../protocol/desired.js';

const KR = '/etc/ceph/ceph.client.k8s.keyring';
const full = () => ({
  schema: 1,
  generation: 3,
  nodeGroup: 'workers-a',
  nodes: ['w1', 'w2.example'],
  notAfter: '2026-12-31T23:59:59Z',
  packages: { policy: 'auto', names: ['ceph-common', 'libstdc++6'] },
  ceph: {
    fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11',
    monHost: ['10.32.3.70:6789', '[v2:10.32.3.71:3300,v1:10.32.3.71:6789]', '[::1]:6789', 'mon-a.example'],
    clientId: 'k8s',
    keyring: '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n',
    conf: '[global]\n\tfsid = 0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11 # über\n',
  },
  unit: { name: 'kubelet.service', path: '/etc/systemd/system/kubelet.service', bindMounts: [{ name: 'ceph-keyring', source: KR, target: KR, readOnly: true }] },
  kubelet: { kind: 'binary', version: 'v1.10.4+nw.1', sha256: 'a'.repeat(64), size: 10, url: 'https://artifacts.example/k?x=1%20', installPath: '/usr/local/bin/kubelet', signature: 'AAAA+/==' },
  probes: { rbd: { pool: 'k8s' }, quota: { path: '/kubernetes/nw-probe', mountDir: '/var/lib/nodewright/quota-w1' } },
});
const image = { kind: 'image', version: 'v2', tag: 'v1.10.4_coreos.0', url: 'docker://reg:5000/coreos/hyperkube' };

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'accepted';
};
/** Set a dotted path (numbers index arrays) on a copy. */
function withField(path: string, value: unknown) {
  const d: any = full();
  const keys = path.split('.');
  let o = d;
  for (const k of keys.slice(0, -1)) o = o[k];
  o[keys.at(-1)!] = value;
  return d;
}

// Each field with a realistic value: the field's value reaches ceph.conf, a unit, RKT_RUN_ARGS or argv.
const LINE_FIELDS: [string, string][] = [
  ['ceph.fsid', '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11'],
  ['ceph.monHost.0', '10.32.3.70:6789'],
  ['ceph.clientId', 'k8s'],
  ['packages.names.0', 'ceph-common'],
  ['unit.name', 'kubelet.service'],
  ['unit.path', '/etc/systemd/system/kubelet.service'],
  ['unit.bindMounts.0.name', 'ceph-keyring'],
  ['unit.bindMounts.0.source', KR],
  ['unit.bindMounts.0.target', KR],
  ['kubelet.version', 'v1.10.4'],
  ['kubelet.url', 'https://artifacts.example/kubelet'],
  ['kubelet.installPath', '/usr/local/bin/kubelet'],
  ['kubelet.signature', 'AAAA'],
  ['probes.rbd.pool', 'k8s'],
  ['probes.quota.path', '/kubernetes/nw-probe'],
  ['probes.quota.mountDir', '/mnt/q'],
  ['nodeGroup', 'workers-a'],
  ['nodes.0', 'w1'],
];
const imageField = (field: 'tag' | 'url', value: string) => ({ ...full(), kubelet: { ...image, [field]: value } });

describe('desired-state schema: patterns on fields that reach files and argv', () => {
  test('realistic values pass (v2 mon addresses, IPv6, package names with +, versions with +, URLs with queries)', () => {
    expect(parseDesiredState(full()).generation).toBe(3);
    expect(parseDesiredState({ ...full(), kubelet: image }).kubelet).toEqual(image);
    for (const [f, v] of LINE_FIELDS) expect(codeOf(() => parseDesiredState(withField(f, v))), f).toBe('accepted');
  });

  test('a newline, NUL, CR or space in any one-line field is refused (NW_BUNDLE), whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LINE_FIELDS), fc.constantFrom('\n', '\0', '\r', ' ', '\t'), fc.nat(), ([f, v], bad, at) => {
        const i = at % (v.length + 1);
        const injected = v.slice(0, i) + bad + v.slice(i);
        expect(codeOf(() => parseDesiredState(withField(f, injected))), `${f}=${JSON.stringify(injected)}`).toBe('NW_BUNDLE');
      }),
    );
    for (const bad of ['\n', '\0', ' ', '"', '%']) {
      expect(codeOf(() => parseDesiredState(imageField('tag', `v2${bad}x`)))).toBe('NW_BUNDLE');
      expect(codeOf(() => parseDesiredState(imageField('url', `docker://reg/hk${bad}x`)))).toBe('NW_BUNDLE');
    }
  });

  test('characters that carry meaning downstream are refused', () => {
    const refused: [string, string][] = [
      ['unit.bindMounts.0.source', '/etc/ceph/a,kind=host,source=/'], // a second rkt --volume option
      ['unit.bindMounts.0.target', '/etc/x=y'],
      ['unit.bindMounts.0.source', '/etc/ceph/../shadow'], // no . / .. segments
      ['unit.path', '/etc/systemd/system/%i.service'], // systemd specifier
      ['unit.path', 'etc/systemd/system/kubelet.service'], // relative
      ['unit.name', 'kubelet'], // not a service unit
      ['unit.name', '-kubelet.service'],
      ['packages.names.0', '--allow-unauthenticated'], // an apt-get option
      ['ceph.clientId', 'k8s/../admin'],
      ['ceph.monHost.0', '-m'],
      ['ceph.monHost.0', '10.0.0.1:6789;rm'],
      ['ceph.monHost.0', '10.0.0.1 = x'],
      ['ceph.fsid', '0b7e5a2c1f3d4c599a572f0c1d9e8a11----'],
      ['kubelet.url', 'ftp://x/kubelet'],
      ['kubelet.version', '-v2'],
      ['kubelet.signature', 'not base64!'],
      ['ceph.keyring', '[client.k8s]\n\tkey = A\0B\n'],
      ['ceph.keyring', ''],
      ['ceph.conf', '[global]\n\u0007\n'],
      ['nodes.0', '-w1'],
    ];
    for (const [f, v] of refused) expect(codeOf(() => parseDesiredState(withField(f, v))), `${f}=${JSON.stringify(v)}`).toBe('NW_BUNDLE');
    expect(codeOf(() => parseDesiredState(imageField('tag', 'v1:latest')))).toBe('NW_BUNDLE'); // the image ref key relies on it
  });

  test('a monHost with a newline cannot inject ceph.conf lines: refused even when correctly signed', () => {
    const keys = generateSigningKeys();
    const priv = loadPrivateKey(keys.privateKeyPem);
    const pub = loadPublicKey(keys.publicKeyPem);
    const evil = withField('ceph.monHost.0', '10.0.0.1:6789\nrun dir = /nonexistent\nadmin socket = /tmp/x');
    expect(() => signBundle(evil, priv)).toThrow(/\/ceph\/monHost\/0/);
    // Sign by hand (bypassing signBundle's check): the agent's verify still refuses it.
    const value = sign(null, Buffer.from(`nodewright.bundle/v1\n${canonicalJson(evil)}`), priv).toString('base64');
    const b = { kind: 'nodewright.bundle/v1', desired: evil, signature: { alg: 'ed25519', keyId: 'x', value } };
    let err: any;
    try {
      verifyBundle(b, pub);
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('NW_BUNDLE');
    expect(err.message).toMatch(/\/ceph\/monHost\/0/);
  });
});

describe('desired-state schema: nodes and notAfter', () => {
  test('nodes: a non-empty list of distinct names', () => {
    expect(codeOf(() => parseDesiredState({ ...full(), nodes: [] }))).toBe('NW_BUNDLE');
    expect(codeOf(() => parseDesiredState({ ...full(), nodes: ['w1', 'w1'] }))).toBe('NW_BUNDLE');
    expect(codeOf(() => parseDesiredState({ ...full(), nodes: 'w1' }))).toBe('NW_BUNDLE');
  });

  test('notAfter: RFC 3339 UTC, and a real instant', () => {
    for (const ok of ['2026-12-01T00:00:00Z', '2026-12-01T10:00:00.5Z', '2028-02-29T23:59:59.999Z']) {
      expect(codeOf(() => parseDesiredState({ ...full(), notAfter: ok })), ok).toBe('accepted');
    }
    for (const bad of ['2026-12-01', '2026-12-01T00:00:00+01:00', '2026-12-01 00:00:00Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', 'tomorrow']) {
      expect(codeOf(() => parseDesiredState({ ...full(), notAfter: bad })), bad).toBe('NW_BUNDLE');
    }
    expect(() => parseDesiredState({ ...full(), notAfter: '2026-02-30T00:00:00Z' })).toThrow(/\/notAfter: .*not a real UTC instant/);
  });
});
