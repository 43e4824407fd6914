// Blobs in PostgreSQL (the HA mode), so an agent downloads from any controller: 1 MiB rows of
// artifact_chunks, written as the upload streams in (under a temporary key, each chunk its own
// statement: a slow upload never holds a transaction open), then renamed to the sha256 and
// recorded in artifact_blobs in one short transaction. Read back one chunk at a time.
// Blob writes are not fenced: a blob is named by its content, so a deposed leader writing one
// changes nothing anyone sees; the artifact record (store.putArtifact) is fenced.
import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { meter } from './blobs.js';
export const CHUNK_BYTES = 1024 * 1024;
export class PgBlobStore {
    pool;
    chunkBytes;
    constructor(pool, chunkBytes = CHUNK_BYTES) {
        this.pool = pool;
        this.chunkBytes = chunkBytes;
    }
    async put(src, accept) {
        const key = `.tmp-${randomUUID()}`;
        let seq = 0;
        let buf = [];
        let bytes = 0;
        const insert = async (data) => {
            for (let off = 0; off < data.length; off += this.chunkBytes) {
                await this.pool.query('INSERT INTO artifact_chunks (sha256, seq, data) VALUES ($1, $2, $3)', [key, seq++, data.subarray(off, off + this.chunkBytes)]);
            }
        };
        const sink = new Writable({
            write: (chunk, _enc, done) => {
                buf.push(chunk);
                bytes += chunk.length;
                if (bytes < this.chunkBytes)
                    return done();
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
                const inserted = await c.query('INSERT INTO artifact_blobs (sha256, size, chunks) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [info.sha256, info.size, seq]);
                if (inserted.rowCount === 1)
                    await c.query('UPDATE artifact_chunks SET sha256 = $1 WHERE sha256 = $2', [info.sha256, key]);
                await c.query('COMMIT');
                ok = true;
            }
            finally {
                const broken = ok ? undefined : await c.query('ROLLBACK').then(() => undefined, (e) => e);
                c.release(broken);
            }
            return info;
        }
        finally {
            // an identical blob was there already, or the upload failed or was refused
            await this.pool.query('DELETE FROM artifact_chunks WHERE sha256 = $1', [key]).catch(() => undefined);
        }
    }
    async open(sha256) {
        const r = await this.pool.query('SELECT size, chunks FROM artifact_blobs WHERE sha256 = $1', [sha256]);
        if (r.rows.length === 0)
            return null;
        const chunks = Number(r.rows[0].chunks);
        const pool = this.pool;
        async function* read() {
            for (let seq = 0; seq < chunks; seq++) {
                // binary: the bytes as they are (text would send them as hex, twice the size)
                const row = await pool.query({ text: 'SELECT data FROM artifact_chunks WHERE sha256 = $1 AND seq = $2', values: [sha256, seq], binary: true });
                if (row.rows.length === 0)
                    throw new Error(`artifact ${sha256} lost its chunk ${seq}`);
                yield row.rows[0].data;
            }
        }
        return { size: Number(r.rows[0].size), stream: Readable.from(read(), { objectMode: false }) };
    }
}
