// Content-addressed artifacts: the blob goes to a BlobStore (files in the state directory, or the
// database in the HA mode), hashed while it streams in; the record (kind, version, sha256, size,
// signature) goes to the controller store. One version never changes content: a conflict is
// refused before the blob is kept.
import { promises as fsp } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { NwError } from '../../host/errors.js';
import { signArtifact } from '../../protocol/bundle.js';
import type { ArtifactRecord, Store } from '../store/store.js';
import type { BlobStore } from './blobs.js';
import { FsBlobStore } from './fs-blobs.js';

const HEX = /^[0-9a-f]{64}$/;

/** The controller API path an agent downloads a blob from. */
export const artifactUrlPath = (sha256: string): string => `/v1/artifacts/sha256/${sha256}`;

export class ArtifactStore {
  private readonly blobs: BlobStore;

  /** `blobs` defaults to files under stateDir/artifacts/sha256. */
  constructor(private readonly o: { stateDir: string; store: Store; signingKey: KeyObject; now(): string; blobs?: BlobStore }) {
    this.blobs = o.blobs ?? new FsBlobStore(o.stateDir);
  }

  /** `src` is a file path or a stream (an upload); `file` names it in errors. */
  async add(src: string | NodeJS.ReadableStream, a: { kind: ArtifactRecord['kind']; version: string; file?: string }): Promise<ArtifactRecord> {
    const file = a.file ?? (typeof src === 'string' ? src : 'upload');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/.test(a.version)) {
      throw new NwError('NW_USAGE', `artifact version "${a.version}" must be letters, digits and . _ + - (at most 128)`);
    }
    const unreadable = (e: unknown): NwError => {
      const err = e as NodeJS.ErrnoException;
      return new NwError('NW_FS', `cannot read artifact ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}; give the path of the kubelet binary`);
    };
    const input = typeof src === 'string' ? (await fsp.open(src).catch((e: unknown) => { throw unreadable(e); })).createReadStream() : src;
    const blob = await this.blobs.put(input, async ({ sha256, size }) => {
      if (size === 0) throw new NwError('NW_USAGE', `artifact ${file} is empty; give the kubelet binary`);
      const existing = await this.o.store.getArtifact(a.kind, a.version);
      if (existing && existing.sha256 !== sha256) {
        throw new NwError('NW_EXISTS', `artifact ${a.kind} ${a.version} already exists with other content (sha256 ${existing.sha256}); add it under a new version`);
      }
    }).catch((e: unknown) => {
      throw e instanceof NwError ? e : unreadable(e);
    });
    const record: ArtifactRecord = { kind: a.kind, version: a.version, sha256: blob.sha256, size: blob.size, signature: await this.sign(blob.sha256, blob.size), addedAt: this.o.now() };
    await this.o.store.putArtifact(record);
    return (await this.o.store.getArtifact(record.kind, record.version)) ?? record; // an identical re-add keeps the first addedAt
  }

  /** A stream of the blob, for the download route; NW_NOT_FOUND when it is not stored. */
  async open(sha256: string): Promise<{ size: number; stream: NodeJS.ReadableStream }> {
    if (!HEX.test(sha256)) throw new NwError('NW_USAGE', `"${sha256}" is not a sha256 (64 lowercase hex digits)`);
    const blob = await this.blobs.open(sha256);
    if (!blob) throw new NwError('NW_NOT_FOUND', `no artifact with sha256 ${sha256}; add it with \`nodewright artifact add\``);
    return blob;
  }

  private async sign(sha256: string, size: number): Promise<string> {
    return signArtifact({ sha256, size }, this.o.signingKey);
  }
}
