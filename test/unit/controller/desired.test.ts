import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindDesired, sameSpec } from '../../../controller/rollout/bind.js';
import { loadRolloutDesired, resolveRolloutDesired } from '../../../controller/rollout/desired.js';
import { NwError } from '../../../host/errors.js';
import { tempDir } from '../../tmp.js';

const KEYRING = '[client.k8s]\n\tkey = AQBzZXRlc3RrZXlyaW5nZm9ydGVzdHM=\n';
const FSID = '0d4e2c5a-1b2c-4d3e-8f9a-0123456789ab';
const SHA = 'f'.repeat(64);

function setUp(yaml: string) {
  const dir = tempDir('nw-desired-');
  const artifacts = [{ kind: 'kubelet-binary' as const, version: 'v2', sha256: SHA, size: 123, signature: 'c2ln', addedAt: '2026-12-01T10:00:00.000Z' }];
  writeFileSync(path.join(dir, 'k8s.keyring'), KEYRING);
  writeFileSync(path.join(dir, 'rollout.yaml'), yaml);
  return { file: path.join(dir, 'rollout.yaml'), o: { artifacts, artifactBaseUrl: 'https://10.0.0.1:9443' } };
}

const base = `runtime: rkt
ceph:
  fsid: ${FSID}
  monHost: [10.0.0.5:6789]
  clientId: k8s
  keyringFile: k8s.keyring
unit:
  bindMounts:
    - { name: ceph-keyring, source: /etc/ceph/ceph.client.k8s.keyring, target: /etc/ceph/ceph.client.k8s.keyring, readOnly: true }
`;

const error = (fn: () => unknown): NwError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    return e as NwError;
  }
  throw new Error('expected an error');
};

describe('rollout desired YAML', () => {
  it('reads the keyring from keyringFile and resolves a binary kubelet from the artifact store', async () => {
    const { file, o } = setUp(`${base}kubelet: { kind: binary, version: v2 }\n`);
    const t = loadRolloutDesired(file, o);
    expect(t.ceph).toEqual({ fsid: FSID, monHost: ['10.0.0.5:6789'], clientId: 'k8s', keyring: KEYRING });
    expect(t.kubelet).toEqual({ kind: 'binary', version: 'v2', sha256: SHA, size: 123, url: `https://10.0.0.1:9443/v1/artifacts/sha256/${SHA}`, signature: 'c2ln' });
    expect(bindDesired(t, { name: 'w1', group: 'workers' }, 7)).toMatchObject({ schema: 1, generation: 7, nodeGroup: 'workers', nodes: ['w1'], runtime: 'rkt' });
  });

  it('passes an image kubelet through as written', async () => {
    const { file, o } = setUp(`${base}kubelet: { kind: image, version: v1.10.13, tag: v1.10.13_coreos.0 }\n`);
    expect(loadRolloutDesired(file, o).kubelet).toEqual({ kind: 'image', version: 'v1.10.13', tag: 'v1.10.13_coreos.0' });
  });

  it('refuses what it must not take, with coded errors naming the file', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [`${base}kubelet: { kind: binary, version: v9 }\n`, 'NW_NOT_FOUND', /no kubelet-binary artifact v9; add it with/],
      [`${base}kubelet: { kind: binary, version: v2, sha256: ${SHA} }\n`, 'NW_USAGE', /come from the artifact store/],
      [`generation: 3\n${base}`, 'NW_USAGE', /drop schema and generation/],
      [base.replace('keyringFile: k8s.keyring', `keyring: "${'x'}"`), 'NW_USAGE', /ceph.keyring is not taken here/],
      [base.replace('k8s.keyring', 'missing.keyring'), 'NW_USAGE', /cannot read ceph.keyringFile .*missing.keyring \(ENOENT\)/],
      [base.replace(FSID, 'not-a-fsid'), 'NW_USAGE', /\/ceph\/fsid/],
      [`${base}kubelet: { kind: rpm }\n`, 'NW_USAGE', /kubelet.kind must be binary or image/],
      ['[1, 2]', 'NW_USAGE', /must be a mapping/],
      ['a: [', 'NW_USAGE', /not valid YAML/],
    ];
    for (const [yaml, code, msg] of cases) {
      const { file, o } = setUp(yaml);
      const e = error(() => loadRolloutDesired(file, o));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
      expect(e.message).toContain(file);
    }
  });

  it('takes an inline keyring only when asked to (the CLI read keyringFile)', async () => {
    const { o } = setUp(base);
    const doc = { ceph: { fsid: FSID, monHost: ['10.0.0.5:6789'], clientId: 'k8s', keyring: KEYRING } };
    expect(resolveRolloutDesired(doc, { ...o, baseDir: '/', keyring: 'inline' }).ceph).toEqual(doc.ceph);
    expect(error(() => resolveRolloutDesired(doc, { ...o, baseDir: '/' })).message).toMatch(/ceph.keyring is not taken here/);
  });

  it('compares specs apart from generation and expiry', async () => {
    const a = { schema: 1, generation: 2, nodes: ['w1'], kubelet: { kind: 'image', version: 'v1', tag: 'v1' } };
    expect(sameSpec(a, { ...a, generation: 9, notAfter: '2027-01-01T00:00:00Z' })).toBe(true);
    expect(sameSpec(a, { ...a, kubelet: { ...a.kubelet, tag: 'v2' } })).toBe(false);
  });
});
