// Where artifact blobs live, by content: the state directory (fs-blobs.ts, the embedded mode) or
// the database (pg-blobs.ts, the HA mode: every controller reaches it). Both hash while streaming,
// never hold a blob in memory and keep a blob under its sha256 only once it is complete.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface BlobInfo { sha256: string; size: number }

export interface BlobStore {
  /**
   * Streams `src` in. `accept` sees the hash and size before the blob is kept and may refuse it
   * (throw): then nothing is kept. An identical blob already stored stays as it is.
   */
  put(src: NodeJS.ReadableStream, accept: (b: BlobInfo) => Promise<void>): Promise<BlobInfo>;
  /** The blob's size and a stream of it; null when it is not stored. */
  open(sha256: string): Promise<{ size: number; stream: NodeJS.ReadableStream } | null>;
}

/** A pass-through that hashes and counts what flows through it. */
export function meter(): { stream: Transform; info(): BlobInfo } {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | null = null;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, info: () => ({ sha256: (sha256 ??= hash.digest('hex')), size }) };
}
