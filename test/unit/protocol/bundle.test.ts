import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { createHash, sign } from 'node:crypto';
import { canonicalJson } from '../../../protocol/canonical.js';
import {
  generateSigningKeys,
  keyId,
  loadPrivateKey,
  loadPublicKey,
  signArtifact,
  signBundle,
  verifyArtifactSignature,
  verifyBundle,
} from '../../../protocol/bundle.js';
import { parseDesiredState } from '../../../protocol/desired.js';

const desired = {
  schema: 1,
  generation: 7,
  ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['10.32.3.70:6789'], clientId: 'k8s', keyring: '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n' },
  unit: { bindMounts: [{ name: 'ceph-keyring', source: '/etc/ceph/ceph.client.k8s.keyring', target: '/etc/ceph/ceph.client.k8s.keyring' }] },
  kubelet: { kind: 'binary', version: 'v1.10.4-nw1', sha256: 'a'.repeat(64), size: 10, url: 'https://artifacts.example/kubelet' },
};
const keys = generateSigningKeys();
const priv = loadPrivateKey(keys.privateKeyPem);
const pub = loadPublicKey(keys.publicKeyPem);

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

describe('canonicalJson', () => {
  test('sorts keys at every level, drops undefined, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,1]},"b":1}');
  });
  test('independent of key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(o));
        expect(JSON.parse(canonicalJson(o))).toEqual(JSON.parse(JSON.stringify(o)));
      }),
    );
  });
  test('refuses non-finite numbers', () => {
    expect(codeOf(() => canonicalJson({ a: Infinity }))).toBe('NW_BUNDLE');
  });
});

describe('signed bundles', () => {
  test('sign → verify round trip returns the desired state', () => {
    const b = signBundle(desired, priv);
    expect(b.signature.keyId).toBe(keyId(pub));
    expect(verifyBundle(JSON.parse(JSON.stringify(b)), pub)).toEqual(desired);
  });
  test('key order in transit does not matter', () => {
    const b = signBundle(desired, priv);
    const reordered = { signature: b.signature, desired: Object.fromEntries(Object.entries(b.desired).reverse()), kind: b.kind };
    expect(verifyBundle(reordered, pub).generation).toBe(7);
  });
  test('any change to the desired state breaks the signature (NW_SIGNATURE)', () => {
    const b = signBundle(desired, priv);
    for (const mutate of [
      (d: any) => (d.generation = 8),
      (d: any) => (d.ceph.keyring = d.ceph.keyring.replace('AQC', 'AQD')),
      (d: any) => (d.kubelet.sha256 = 'b'.repeat(64)),
      (d: any) => d.unit.bindMounts.pop(),
    ]) {
      const copy = JSON.parse(JSON.stringify(b));
      mutate(copy.desired);
      expect(codeOf(() => verifyBundle(copy, pub))).toBe('NW_SIGNATURE');
    }
  });
  test('unsigned, wrong key, garbage signature → NW_SIGNATURE; malformed envelope → NW_BUNDLE', () => {
    expect(codeOf(() => verifyBundle(desired, pub))).toBe('NW_SIGNATURE');
    expect(codeOf(() => verifyBundle(null, pub))).toBe('NW_SIGNATURE');
    const other = loadPublicKey(generateSigningKeys().publicKeyPem);
    expect(codeOf(() => verifyBundle(signBundle(desired, priv), other))).toBe('NW_SIGNATURE');
    const b = signBundle(desired, priv);
    expect(codeOf(() => verifyBundle({ ...b, signature: { ...b.signature, value: 'AAAA' } }, pub))).toBe('NW_SIGNATURE');
    expect(codeOf(() => verifyBundle({ ...b, signature: { ...b.signature, alg: 'rsa' } }, pub))).toBe('NW_BUNDLE');
  });
  test('signing refuses an invalid desired state and names the field', () => {
    let msg = '';
    try {
      signBundle({ ...desired, ceph: { ...desired.ceph, fsid: 'nope' } }, priv);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/\/ceph\/fsid/);
  });
  test('a correctly signed but schema-invalid state is still refused (NW_BUNDLE)', () => {
    const b = signBundle(desired, priv);
    // Re-sign a bad state by hand-crafting: bypasses signBundle's check.
    const bad = { ...desired, generation: 0 };
    const value = sign(null, Buffer.from(`nodewright.bundle/v1\n${canonicalJson(bad)}`), priv).toString('base64');
    expect(codeOf(() => verifyBundle({ ...b, desired: bad, signature: { ...b.signature, value } }, pub))).toBe('NW_BUNDLE');
  });
  test('keys of the wrong type are refused with a hint', () => {
    expect(codeOf(() => loadPrivateKey('not a key'))).toBe('NW_SIGNATURE');
    expect(codeOf(() => loadPublicKey(keys.privateKeyPem.replace('PRIVATE', 'PUBLIC')))).toBe('NW_SIGNATURE');
  });
  test('detached artifact signatures cover the sha256 and the size', () => {
    const data = Buffer.from('#!/bin/sh\necho kubelet\n');
    const a = { sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
    const s = signArtifact(a, priv);
    expect(verifyArtifactSignature(a, s, pub)).toBe(true);
    expect(verifyArtifactSignature({ ...a, size: a.size + 1 }, s, pub)).toBe(false);
    expect(verifyArtifactSignature({ ...a, sha256: 'f'.repeat(64) }, s, pub)).toBe(false);
    expect(verifyArtifactSignature(a, s, loadPublicKey(generateSigningKeys().publicKeyPem))).toBe(false);
    expect(codeOf(() => signArtifact({ sha256: 'XYZ', size: 1 }, priv))).toBe('NW_USAGE');
  });
  test('domain separation: a bundle signature is never an artifact signature, and vice versa', () => {
    const b = signBundle(desired, priv);
    // The bundle's signed message itself, taken as artifact bytes: its digest with the bundle's signature.
    const message = Buffer.from(`nodewright.bundle/v1\n${canonicalJson(b.desired)}`);
    const asArtifact = { sha256: createHash('sha256').update(message).digest('hex'), size: message.length };
    expect(verifyArtifactSignature(asArtifact, b.signature.value, pub)).toBe(false);
    // An artifact signature over exactly the bundle's bytes does not make the bundle verify.
    expect(codeOf(() => verifyBundle({ ...b, signature: { ...b.signature, value: signArtifact(asArtifact, priv) } }, pub))).toBe('NW_SIGNATURE');
    // Nor does a raw signature of the digest line without the artifact tag.
    const untagged = sign(null, Buffer.from(`${asArtifact.sha256}\n${asArtifact.size}`), priv).toString('base64');
    expect(verifyArtifactSignature(asArtifact, untagged, pub)).toBe(false);
  });
  test('desired-state schema: unknown keys and bad sha256 are refused', () => {
    expect(codeOf(() => parseDesiredState({ ...desired, extra: 1 }))).toBe('NW_BUNDLE');
    expect(codeOf(() => parseDesiredState({ ...desired, kubelet: { ...desired.kubelet, sha256: 'XYZ' } }))).toBe('NW_BUNDLE');
    expect(parseDesiredState({ schema: 1, generation: 1 }).generation).toBe(1);
  });
});
