import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { entryFor, formatKeyring, isValidCephKey, parseKeyring } from '../../../ceph/keyring.js';
import { NwError } from '../../../host/errors.js';

// a key the way ceph-authtool makes one: type 1 (AES), created, length 16, secret
const makeKey = (secret: Buffer = randomBytes(16)) => {
  const b = Buffer.alloc(12 + secret.length);
  b.writeUInt16LE(1, 0);
  b.writeUInt32LE(1_700_000_000, 2);
  b.writeUInt16LE(secret.length, 10);
  secret.copy(b, 12);
  return b.toString('base64');
};

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as NwError).code;
  }
  return 'no error';
};

describe('keyring', () => {
  it('parses what `ceph auth get` prints', () => {
    const text = '[client.k8s]\n\tkey = AQCKiwdrw0AUIhAAXPcknl/bEvTezQ4JkdFEDA==\n\tcaps mds = "allow rwp"\n\tcaps mon = "allow rwx"\n\tcaps osd = "allow rwx pool=k8s, allow rw pool=cephfs_data"\n';
    const [e] = parseKeyring(text);
    expect(e.entity).toBe('client.k8s');
    expect(e.key).toBe('AQCKiwdrw0AUIhAAXPcknl/bEvTezQ4JkdFEDA==');
    expect(e.caps).toEqual({ mds: 'allow rwp', mon: 'allow rwx', osd: 'allow rwx pool=k8s, allow rw pool=cephfs_data' });
    expect(parseKeyring(formatKeyring([e]))).toEqual([e]);
  });

  it('round-trips any valid key and caps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constantFrom('k8s', 'admin', 'node-1'), fc.string({ unit: fc.constantFrom('a', 'l', 'o', 'w', ' ', 'r', '=', ',') }), (secret, id, cap) => {
        const e = { entity: `client.${id}`, key: makeKey(Buffer.from(secret)), caps: cap.trim() ? { mon: cap.trim() } : {} };
        expect(parseKeyring(formatKeyring([e]))).toEqual([e]);
      }),
    );
  });

  it('rejects malformed keys with NW_CEPH_KEYRING and never echoes the key', () => {
    for (const bad of ['garbage!!', 'AQCKiwdrw0AUIhAAXPcknl', Buffer.alloc(28).toString('base64'), makeKey().slice(0, -4)]) {
      let err: NwError | undefined;
      try {
        parseKeyring(`[client.k8s]\nkey = ${bad}\n`);
      } catch (e) {
        err = e as NwError;
      }
      expect(err?.code).toBe('NW_CEPH_KEYRING');
      expect(err?.message).not.toContain(bad);
    }
    expect(isValidCephKey(makeKey())).toBe(true);
  });

  it('rejects files without a section or without a key', () => {
    expect(code(() => parseKeyring(''))).toBe('NW_CEPH_KEYRING');
    expect(code(() => parseKeyring('key = x\n'))).toBe('NW_CEPH_KEYRING');
    expect(code(() => parseKeyring('[client.k8s]\ncaps mon = "allow r"\n'))).toBe('NW_CEPH_KEYRING');
    expect(code(() => formatKeyring([{ entity: 'client.x', key: 'nope', caps: {} }]))).toBe('NW_CEPH_KEYRING');
  });

  it('finds the entry for an id, with or without the client. prefix', () => {
    const es = parseKeyring(`[client.admin]\nkey = ${makeKey()}\n[client.k8s]\nkey = ${makeKey()}\n`);
    expect(entryFor(es, 'k8s').entity).toBe('client.k8s');
    expect(entryFor(es, 'client.admin').entity).toBe('client.admin');
    expect(code(() => entryFor(es, 'nope'))).toBe('NW_CEPH_KEYRING');
  });
});
