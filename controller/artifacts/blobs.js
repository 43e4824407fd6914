// Where artifact blobs live, by content: the state directory (fs-blobs.ts, the embedded mode) or
// the database (pg-blobs.ts, the HA mode: every controller reaches it). Both hash while streaming,
// never hold a blob in memory and keep a blob under its sha256 only once it is complete.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
/** A pass-through that hashes and counts what flows through it. */
export function meter() {
    const hash = createHash('sha256');
    let size = 0;
    let sha256 = null;
    const stream = new Transform({
        transform(chunk, _enc, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
        },
    });
    return { stream, info: () => ({ sha256: (sha256 ??= hash.digest('hex')), size }) };
}
