// Blobs as files: stateDir/artifacts/sha256/<hex>. A blob is hashed while it is streamed into a
// temp file beside the blobs (fsync, mode 0644, rename, dir fsync), so a file under its name is
// always complete and its name is its content.
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsyncPath } from '../../host/fs.js';
import { meter, type BlobInfo, type BlobStore } from './blobs.js';

export class FsBlobStore implements BlobStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'artifacts', 'sha256');
  }

  async put(src: NodeJS.ReadableStream, accept: (b: BlobInfo) => Promise<void>): Promise<BlobInfo> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o755 });
    const tmp = path.join(this.dir, `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    try {
      const m = meter();
      await pipeline(src, m.stream, createWriteStream(tmp, { mode: 0o644, flags: 'wx' }));
      const info = m.info();
      await accept(info);
      await fsyncPath(tmp);
      await fsp.chmod(tmp, 0o644);
      await fsp.rename(tmp, path.join(this.dir, info.sha256)); // same content, same name: replacing is harmless
      await fsyncPath(this.dir);
      return info;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async open(sha256: string): Promise<{ size: number; stream: NodeJS.ReadableStream } | null> {
    const p = path.join(this.dir, sha256);
    const st = await fsp.stat(p).catch(() => null);
    return st ? { size: st.size, stream: createReadStream(p) } : null;
  }
}
