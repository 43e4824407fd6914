// Blobs in PostgreSQL (the HA mode), so an agent downloads from any controller: 1 MiB rows of
// artifact_chunks, written as the upload streams in (under a temporary key, each chunk its own
// statement: a slow upload never holds a transaction open), then renamed to the sha256 and
// recorded in artifact_blobs in one short transaction. Read back one chunk at a time.
// Blob writes are not fenced: a blob is named by its content, so a deposed leader writing one
// changes nothing anyone sees; the artifact record (store.putArtifact) is fenced.
import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { meter, type BlobInfo, type BlobStore } from './blobs.js';

export const CHUNK_BYTES = 1024 * 1024;
/** Chunks of an upload in progress are keyed `.tmp-<ms since epoch>-<uuid>` until it completes. */
const TMP = '.tmp-';

export class PgBlobStore implements BlobStore {
  constructor(private readonly pool: pg.Pool, private readonly chunkBytes = CHUNK_BYTES) {}

  async put(src: NodeJS.ReadableStream, accept: (b: BlobInfo) => Promise<void>): Promise<BlobInfo> {
    const key = `${TMP}${Date.now()}-${randomUUID()}`;
    let seq = 0;
    let buf: Buffer[] = [];
    let bytes = 0;
    const insert = async (data: Buffer): Promise<void> => {
      for (let off = 0; off < data.length; off += this.chunkBytes) {
        await this.pool.query('INSERT INTO artifact_chunks (sha256, seq, data) VALUES ($1, $2, $3)', [key, seq++, data.subarray(off, off + this.chunkBytes)]);
      }
    };
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        buf.push(chunk);
        bytes += chunk.length;
        if (bytes < this.chunkBytes) return done();
        // whole chunks go now (the stream waits for them); the rest waits for more
        const data = Buffer.concat(buf, bytes);
        const whole = data.length - (data.length % this.chunkBytes);
        buf = whole < data.length ? [data.subarray(whole)] : [];
        bytes = data.length - whole;
        insert(data.subarray(0, whole)).then(() => done(), done);
      },
      final: (done) => {
        insert(Buffer.concat(buf, bytes)).then(() => done(), done);
      },
    });
    try {
      const m = meter();
      await pipeline(src, m.stream, sink);
      const info = m.info();
      await accept(info);
      const c = await this.pool.connect();
      let ok = false;
      try {
        await c.query('BEGIN');
        const inserted = await c.query('INSERT INTO artifact_blobs (sha256, size, chunks) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING',
          [info.sha256, info.size, seq]);
        if (inserted.rowCount === 1) await c.query('UPDATE artifact_chunks SET sha256 = $1 WHERE sha256 = $2', [info.sha256, key]);
        await c.query('COMMIT');
        ok = true;
      } finally {
        const broken = ok ? undefined : await c.query('ROLLBACK').then(() => undefined, (e: Error) => e);
        c.release(broken);
      }
      return info;
    } finally {
      // an identical blob was there already, or the upload failed or was refused
      await this.pool.query('DELETE FROM artifact_chunks WHERE sha256 = $1', [key]).catch(() => undefined);
    }
  }

  /**
   * Removes the chunks of uploads started before `before` (ms since epoch) that never completed
   * (their controller died mid-upload); returns the rows removed. For the pruning pass.
   */
  async sweep(before: number): Promise<number> {
    const r = await this.pool.query(`DELETE FROM artifact_chunks WHERE sha256 LIKE '.tmp-%' AND split_part(sha256, '-', 2)::bigint < $1`, [before]);
    return r.rowCount ?? 0;
  }

  async open(sha256: string): Promise<{ size: number; stream: NodeJS.ReadableStream } | null> {
    const r = await this.pool.query('SELECT size, chunks FROM artifact_blobs WHERE sha256 = $1', [sha256]);
    if (r.rows.length === 0) return null;
    const chunks = Number(r.rows[0].chunks);
    const pool = this.pool;
    async function* read(): AsyncGenerator<Buffer> {
      for (let seq = 0; seq < chunks; seq++) {
        const row = await pool.query('SELECT data FROM artifact_chunks WHERE sha256 = $1 AND seq = $2', [sha256, seq]);
        if (row.rows.length === 0) throw new Error(`artifact ${sha256} lost its chunk ${seq}`);
        yield row.rows[0].data as Buffer;
      }
    }
    return { size: Number(r.rows[0].size), stream: Readable.from(read(), { objectMode: false }) };
  }
}
