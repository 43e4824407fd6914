// package/sign.ts: the release key from $NODEWRIGHT_RELEASE_KEY and ARTIFACT.sig (raw ed25519 over the file).
import { generateKeyPairSync, verify } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { NwError } from '../../../host/errors.js';
import { generateSigningKeys } from '../../../protocol/keys.js';
import { releaseKey, signArtifacts } from '../../../package/sign.js';
import { tempDir } from '../../tmp.js';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof NwError ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
  }
  return 'no error';
};

describe('releaseKey', () => {
  test('unset → null (an unsigned build)', () => {
    expect(releaseKey({})).toBeNull();
  });
  test('a key file from `nodewright keygen` loads', () => {
    const file = path.join(tempDir('nw-sign-'), 'release.key');
    writeFileSync(file, generateSigningKeys().privateKeyPem, { mode: 0o600 });
    expect(releaseKey({ NODEWRIGHT_RELEASE_KEY: file })?.asymmetricKeyType).toBe('ed25519');
  });
  test('a missing file → NW_USAGE naming the variable and how to make a key', () => {
    expect(codeOf(() => releaseKey({ NODEWRIGHT_RELEASE_KEY: '/nonexistent/release.key' }))).toMatch(/^NW_USAGE: NODEWRIGHT_RELEASE_KEY=\/nonexistent\/release.key: cannot read the release key \(ENOENT\): make one with `npm run release-key/);
  });
  test('a public key or an RSA key → NW_SIGNATURE', () => {
    const dir = tempDir('nw-sign-');
    writeFileSync(path.join(dir, 'pub'), generateSigningKeys().publicKeyPem);
    writeFileSync(path.join(dir, 'rsa'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(codeOf(() => releaseKey({ NODEWRIGHT_RELEASE_KEY: path.join(dir, 'pub') }))).toMatch(/^NW_SIGNATURE: /);
    expect(codeOf(() => releaseKey({ NODEWRIGHT_RELEASE_KEY: path.join(dir, 'rsa') }))).toMatch(/^NW_SIGNATURE: .*key type is rsa/);
  });
});

describe('signArtifacts', () => {
  test('ARTIFACT.sig is a raw 64-byte ed25519 signature of the whole file; no temp file left', () => {
    const dir = tempDir('nw-sign-');
    const a = path.join(dir, 'a.tar.gz');
    writeFileSync(a, 'release bytes');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect(signArtifacts(privateKey, [a])).toEqual([`${a}.sig`]);
    const sig = readFileSync(`${a}.sig`);
    expect(sig.length).toBe(64);
    expect(verify(null, readFileSync(a), publicKey, sig)).toBe(true);
    expect(existsSync(`${a}.sig.tmp`)).toBe(false);
  });
  test('no key: a stale .sig from an earlier signed build is removed', () => {
    const dir = tempDir('nw-sign-');
    const a = path.join(dir, 'a.tar.gz');
    writeFileSync(a, 'release bytes');
    signArtifacts(generateKeyPairSync('ed25519').privateKey, [a]);
    expect(signArtifacts(null, [a])).toEqual([]);
    expect(existsSync(`${a}.sig`)).toBe(false);
  });
});
