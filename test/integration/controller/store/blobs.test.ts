// Artifact blobs in PostgreSQL (the HA mode): added through one controller, downloaded through
// another; refused or duplicate uploads leave no rows behind; a 200 MB blob streams in and out
// without the process growing by its size.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../../../controller/ha/schema.js';
import { PgBlobStore } from '../../../../controller/artifacts/pg-blobs.js';
import { ArtifactStore } from '../../../../controller/artifacts/store.js';
import { openPostgresStore, type PostgresStore } from '../../../../controller/store/postgres.js';
import { generateSigningKeys, loadPrivateKey } from '../../../../protocol/bundle.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';
import { tempDir } from '../../../tmp.js';
import { codeOf, takeLease } from './harness.js';

const keys = generateSigningKeys();
let lab: PostgresLab;
const stores: PostgresStore[] = [];
beforeAll(async () => {
  lab = await startPostgres();
}, 120_000);
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
});
afterAll(async () => {
  await lab?.stop();
}, 60_000);

/** One controller on the database: its store (the leader's lease when `lead`) and its artifact store. */
async function controller(db: string, lead: boolean) {
  let lease: Lease | null = null;
  const store = await openPostgresStore({ connectionString: lab.url(db), password: lab.password, lease: () => lease, max: 3 });
  stores.push(store);
  if (lead) lease = await takeLease(store.pool);
  const artifacts = new ArtifactStore({
    stateDir: tempDir('nw-pg-art-'), store, signingKey: loadPrivateKey(keys.privateKeyPem),
    now: () => '2026-12-01T10:00:00.000Z', blobs: new PgBlobStore(store.pool),
  });
  return { store, artifacts };
}

const read = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const rowsOf = async (s: PostgresStore, sql: string) => Number((await s.pool.query(sql)).rows[0].n);

describe('artifact blobs in PostgreSQL', () => {
  it('a blob added through the leader downloads from another controller; refusals and duplicates leave no rows', async () => {
    const db = await lab.createDatabase();
    const leader = await controller(db, true);
    const follower = await controller(db, false);
    const content = randomBytes(2 * 1024 * 1024 + 123); // two whole chunks and a partial one
    const file = path.join(tempDir('nw-pg-art-src-'), 'kubelet');
    writeFileSync(file, content);
    const rec = await leader.artifacts.add(file, { kind: 'kubelet-binary', version: 'v1' });
    expect(rec).toMatchObject({ sha256: createHash('sha256').update(content).digest('hex'), size: content.length });
    const blob = await follower.artifacts.open(rec.sha256);
    expect(blob.size).toBe(content.length);
    expect((await read(blob.stream)).equals(content)).toBe(true);
    expect(await rowsOf(leader.store, 'SELECT COUNT(*) AS n FROM artifact_chunks')).toBe(3);
    // the same content again (another version): one copy
    await leader.artifacts.add(Readable.from([content]), { kind: 'kubelet-binary', version: 'v1-again' });
    expect(await rowsOf(leader.store, 'SELECT COUNT(*) AS n FROM artifact_chunks')).toBe(3);
    // other content under v1, and an empty upload: refused, nothing left
    expect(await codeOf(leader.artifacts.add(Readable.from([Buffer.from('other')]), { kind: 'kubelet-binary', version: 'v1' }))).toBe('NW_EXISTS');
    expect(await codeOf(leader.artifacts.add(Readable.from([]), { kind: 'kubelet-binary', version: 'v2' }))).toBe('NW_USAGE');
    expect(await rowsOf(leader.store, 'SELECT COUNT(*) AS n FROM artifact_chunks')).toBe(3);
    expect(await rowsOf(leader.store, 'SELECT COUNT(*) AS n FROM artifact_blobs')).toBe(1);
    // a follower may store a blob but not the record: fenced, and the listing is unchanged
    expect(await codeOf(follower.artifacts.add(Readable.from([Buffer.from('x')]), { kind: 'kubelet-binary', version: 'v3' }))).toBe('NW_STATE');
    expect((await follower.store.listArtifacts()).map((a) => a.version)).toEqual(['v1', 'v1-again']);
    expect(await codeOf(follower.artifacts.open('a'.repeat(64)))).toBe('NW_NOT_FOUND');
  });

  it('sweep removes the chunks of an upload its controller never finished, and nothing else', async () => {
    const db = await lab.createDatabase();
    const leader = await controller(db, true);
    const blobs = new PgBlobStore(leader.store.pool, 4);
    await blobs.put(Readable.from([Buffer.from('complete blob')]), async () => undefined);
    // a controller killed mid-upload an hour ago left these
    const dead = `.tmp-${Date.now() - 3_600_000}-0f0e`;
    for (const seq of [0, 1]) await leader.store.pool.query('INSERT INTO artifact_chunks (sha256, seq, data) VALUES ($1, $2, $3)', [dead, seq, Buffer.from('abcd')]);
    // an upload in progress now
    const live = `.tmp-${Date.now()}-0a0b`;
    await leader.store.pool.query('INSERT INTO artifact_chunks (sha256, seq, data) VALUES ($1, 0, $2)', [live, Buffer.from('abcd')]);
    expect(await blobs.sweep(Date.now() - 600_000)).toBe(2);
    const left = (await leader.store.pool.query('SELECT sha256 FROM artifact_chunks ORDER BY sha256, seq')).rows.map((r) => String(r.sha256));
    expect(left.filter((k) => k.startsWith('.tmp-'))).toEqual([live]);
    expect(left.filter((k) => !k.startsWith('.tmp-'))).toHaveLength(4); // 13 bytes in 4-byte chunks
  });

  it('a 200 MB blob streams in and out with the memory flat', async () => {
    const db = await lab.createDatabase();
    const leader = await controller(db, true);
    const follower = await controller(db, false);
    const total = 200 * 1024 * 1024;
    const piece = randomBytes(64 * 1024);
    let moved = 0; // bytes in, then bytes out: 0 … 2 × total
    const source = Readable.from((function* () {
      for (let off = 0; off < total; off += piece.length) {
        moved += piece.length;
        yield piece;
      }
    })());
    const want = createHash('sha256');
    for (let off = 0; off < total; off += piece.length) want.update(piece);
    const base = process.memoryUsage().rss;
    const samples: { at: number; rss: number }[] = [];
    const sampler = setInterval(() => samples.push({ at: moved / (2 * total), rss: process.memoryUsage().rss }), 20);
    try {
      const rec = await leader.artifacts.add(source, { kind: 'kubelet-binary', version: 'big' });
      expect(rec).toMatchObject({ sha256: want.digest('hex'), size: total });
      const blob = await follower.artifacts.open(rec.sha256);
      expect(blob.size).toBe(total);
      const got = createHash('sha256');
      for await (const c of blob.stream) {
        got.update(c as Buffer);
        moved += (c as Buffer).length;
      }
      expect(moved).toBe(2 * total);
      expect(got.digest('hex')).toBe(rec.sha256);
    } finally {
      clearInterval(sampler);
    }
    // flat: in each direction, what its first quarter needed (pool, buffers, GC headroom) is about
    // all the rest needs. Holding the blob would put ≥ 150 MiB between the early and late peaks
    // and 200 MiB over the base; V8's lazily grown heap alone has moved the late peak 17–49 MiB
    // (1 MiB rows arrive as 2 MiB hex strings; 600 MB moved it no further than 200 MB), so the
    // bounds sit between the two.
    const peak = (from: number, to: number) => Math.max(...samples.filter((x) => x.at >= from && x.at <= to).map((x) => x.rss)) / 2 ** 20;
    const [inEarly, inLate, outEarly, outLate] = [peak(0, 0.125), peak(0.25, 0.5), peak(0.5, 0.625), peak(0.75, 1)];
    console.log(`200 MB through PostgreSQL blobs: rss ${(base / 2 ** 20).toFixed(0)} MiB before; peak in ${inEarly.toFixed(0)} → ${inLate.toFixed(0)} MiB, out ${outEarly.toFixed(0)} → ${outLate.toFixed(0)} MiB`);
    expect(inLate - inEarly).toBeLessThan(96);
    expect(outLate - outEarly).toBeLessThan(96);
    expect(Math.max(inEarly, inLate, outEarly, outLate) - base / 2 ** 20).toBeLessThan(160);
  }, 180_000);
});
