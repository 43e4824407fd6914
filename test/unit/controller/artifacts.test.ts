import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../../controller/artifacts/store.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { NwError } from '../../../host/errors.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, verifyArtifactSignature } from '../../../protocol/bundle.js';
import { tempDir } from '../../tmp.js';

const keys = generateSigningKeys();
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setUp() {
  const stateDir = tempDir('nw-art-');
  const store = openSqliteStore({ stateDir });
  stores.push(store);
  const artifacts = new ArtifactStore({ stateDir, store, signingKey: loadPrivateKey(keys.privateKeyPem), now: () => '2026-12-01T10:00:00.000Z' });
  const src = path.join(stateDir, 'src');
  mkdirSync(src);
  const file = (name: string, content: Buffer | string) => {
    const p = path.join(src, name);
    writeFileSync(p, content);
    return p;
  };
  return { stateDir, store, artifacts, file };
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(NwError);
  return (e as NwError).code;
};

describe('artifact store', () => {
  it('stores a file under its sha256, signed, and records it', async () => {
    const { artifacts, store, file, stateDir } = setUp();
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 'k'); // several stream chunks
    const rec = await artifacts.add(file('kubelet', content), { kind: 'kubelet-binary', version: 'v1.10.13-ceph' });
    const sha = createHash('sha256').update(content).digest('hex');
    expect(rec).toMatchObject({ kind: 'kubelet-binary', version: 'v1.10.13-ceph', sha256: sha, size: content.length, addedAt: '2026-12-01T10:00:00.000Z' });
    const blob = path.join(stateDir, 'artifacts', 'sha256', sha);
    expect(readFileSync(blob).equals(content)).toBe(true);
    expect(statSync(blob).mode & 0o777).toBe(0o644);
    expect(verifyArtifactSignature({ sha256: sha, size: content.length }, rec.signature, loadPublicKey(keys.publicKeyPem))).toBe(true);
    expect(await store.getArtifact('kubelet-binary', 'v1.10.13-ceph')).toEqual(rec);
    expect(readdirSync(path.dirname(blob))).toEqual([sha]); // no temp files left
    const { size, stream } = await artifacts.open(sha);
    expect(size).toBe(content.length);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
  });

  it('re-adding the same content is a no-op; other content under one version is NW_EXISTS, nothing written', async () => {
    const { artifacts, file, stateDir } = setUp();
    const first = await artifacts.add(file('a', 'one'), { kind: 'kubelet-binary', version: 'v2' });
    expect(await artifacts.add(file('a2', 'one'), { kind: 'kubelet-binary', version: 'v2' })).toEqual(first);
    expect(await codeOf(artifacts.add(file('b', 'two'), { kind: 'kubelet-binary', version: 'v2' }))).toBe('NW_EXISTS');
    expect(readdirSync(path.join(stateDir, 'artifacts', 'sha256'))).toEqual([first.sha256]);
  });

  it('refuses missing and empty files, bad versions and bad hashes with coded errors', async () => {
    const { artifacts, file } = setUp();
    expect(await codeOf(artifacts.add('/nonexistent/kubelet', { kind: 'kubelet-binary', version: 'v1' }))).toBe('NW_FS');
    expect(await codeOf(artifacts.add(file('empty', ''), { kind: 'kubelet-binary', version: 'v1' }))).toBe('NW_USAGE');
    expect(await codeOf(artifacts.add(file('x', 'x'), { kind: 'kubelet-binary', version: '../v1' }))).toBe('NW_USAGE');
    expect(await codeOf(artifacts.open('../../etc/passwd'))).toBe('NW_USAGE');
    expect(await codeOf(artifacts.open('a'.repeat(64)))).toBe('NW_NOT_FOUND');
  });
});
