// Bring an artifact's bytes to a staging file: streamed, size-limited, sha256 computed on the way.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { NwError } from '../host/errors.js';

export interface FetchResult {
  sha256: string;
  size: number;
}

export async function sha256File(file: string): Promise<string | null> {
  try {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function openSource(url: string, resolveLocal: (p: string) => Promise<string>, timeoutMs: number): Promise<AsyncIterable<Uint8Array>> {
  if (/^https?:\/\//.test(url)) {
    let r: Response;
    try {
      r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new NwError('NW_DOWNLOAD', `cannot download ${url}: ${(e as Error).message}; check the URL and that the worker can reach it`);
    }
    if (r.status !== 200 || !r.body) throw new NwError('NW_DOWNLOAD', `download of ${url} answered HTTP ${r.status}: check the artifact URL`);
    return Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  const local = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!local.startsWith('/')) throw new NwError('NW_DOWNLOAD', `artifact source ${url} is neither http(s)://, file:// nor an absolute path`);
  const real = await resolveLocal(local);
  try {
    await fsp.access(real);
  } catch {
    throw new NwError('NW_DOWNLOAD', `artifact file ${local} does not exist on this worker`);
  }
  return createReadStream(real);
}

/** Copy `url` into `dest` (real path), refusing more than `maxBytes`; mode applied before returning. */
export async function fetchToFile(
  url: string,
  dest: string,
  o: { maxBytes: number; mode: number; timeoutMs?: number; resolveLocal: (p: string) => Promise<string> },
): Promise<FetchResult> {
  const src = await openSource(url, o.resolveLocal, o.timeoutMs ?? 300_000);
  const h = createHash('sha256');
  let size = 0;
  const fh = await fsp.open(dest, 'w', 0o600);
  try {
    for await (const chunk of src) {
      size += chunk.length;
      if (size > o.maxBytes) {
        throw new NwError('NW_CHECKSUM', `artifact ${url} is larger than ${o.maxBytes} bytes: refusing it (check the bundle's size)`);
      }
      h.update(chunk);
      await fh.write(chunk);
    }
    await fh.chmod(o.mode);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(dest, { force: true });
    if (e instanceof NwError) throw e;
    throw new NwError('NW_DOWNLOAD', `reading ${url} failed: ${(e as Error).message}`);
  }
  await fh.close();
  return { sha256: h.digest('hex'), size };
}
