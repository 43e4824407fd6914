// Content-addressed artifact store: stateDir/artifacts/sha256/<hex>. A file is hashed while it is
// streamed into a temp file beside the blobs (fsync, mode 0644, rename, dir fsync), so a blob
// under its name is always complete and its name is its content. The record (kind, version,
// sha256, size, signature) goes to the controller store; one version never changes content.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NwError } from '../../host/errors.js';
import { fsyncPath } from '../../host/fs.js';
import { signArtifact } from '../../protocol/bundle.js';
import type { ArtifactRecord, Store } from '../store/store.js';

const HEX = /^[0-9a-f]{64}$/;

/** The controller API path an agent downloads a blob from. */
export const artifactUrlPath = (sha256: string): string => `/v1/artifacts/sha256/${sha256}`;

export class ArtifactStore {
  readonly dir: string;

  constructor(private readonly o: { stateDir: string; store: Store; signingKey: KeyObject; now(): string }) {
    this.dir = path.join(o.stateDir, 'artifacts', 'sha256');
  }

  /** `src` is a file path or a stream (an upload); `file` names it in errors. */
  async add(src: string | NodeJS.ReadableStream, a: { kind: ArtifactRecord['kind']; version: string; file?: string }): Promise<ArtifactRecord> {
    const file = a.file ?? (typeof src === 'string' ? src : 'upload');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/.test(a.version)) {
      throw new NwError('NW_USAGE', `artifact version "${a.version}" must be letters, digits and . _ + - (at most 128)`);
    }
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o755 });
    const tmp = path.join(this.dir, `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(typeof src === 'string' ? createReadStream(src) : src, meter, createWriteStream(tmp, { mode: 0o644, flags: 'wx' }));
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      const err = e as NodeJS.ErrnoException;
      throw new NwError('NW_FS', `cannot read artifact ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}; give the path of the kubelet binary`);
    }
    const sha256 = hash.digest('hex');
    try {
      if (size === 0) throw new NwError('NW_USAGE', `artifact ${file} is empty; give the kubelet binary`);
      const existing = await this.o.store.getArtifact(a.kind, a.version);
      if (existing && existing.sha256 !== sha256) {
        throw new NwError('NW_EXISTS', `artifact ${a.kind} ${a.version} already exists with other content (sha256 ${existing.sha256}); add it under a new version`);
      }
      await fsyncPath(tmp);
      await fsp.chmod(tmp, 0o644);
      await fsp.rename(tmp, this.blobPath(sha256)); // same content, same name: replacing is harmless
      await fsyncPath(this.dir);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    const record: ArtifactRecord = { kind: a.kind, version: a.version, sha256, size, signature: await this.sign(sha256, size), addedAt: this.o.now() };
    await this.o.store.putArtifact(record);
    // an identical re-add keeps the first addedAt
    return (await this.o.store.getArtifact(record.kind, record.version)) ?? record;
  }

  blobPath(sha256: string): string {
    if (!HEX.test(sha256)) throw new NwError('NW_USAGE', `"${sha256}" is not a sha256 (64 lowercase hex digits)`);
    return path.join(this.dir, sha256);
  }

  /** A stream of the blob, for the download route; NW_NOT_FOUND when it is not stored. */
  async open(sha256: string): Promise<{ size: number; stream: NodeJS.ReadableStream }> {
    const p = this.blobPath(sha256);
    const st = await fsp.stat(p).catch(() => null);
    if (!st) throw new NwError('NW_NOT_FOUND', `no artifact with sha256 ${sha256}; add it with \`nodewright artifact add\``);
    return { size: st.size, stream: createReadStream(p) };
  }

  private async sign(sha256: string, size: number): Promise<string> {
    return signArtifact({ sha256, size }, this.o.signingKey);
  }
}
