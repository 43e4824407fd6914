// Bring an artifact's bytes to a staging file: streamed (never the whole file in memory),
// size-limited, sha256 computed on the way. https may present the agent's client certificate and
// trust the fleet CA; the server must then be the controller (its role, not only the CA).
import { createHash } from 'node:crypto';
import { constants as C, createReadStream, promises as fsp } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { NwError } from '../host/errors.js';
import { checkControllerIdentity } from '../pki/identity.js';
import type { AgentTls } from './config.js';

// Not `import http from 'node:http'`: on Node 24 the ESM facade of node:http reads its lazy
// WebSocket getter, which loads undici (~13 MiB RSS on an idle daemon that never downloads).
const http = () => process.getBuiltinModule('node:http');
const https = () => process.getBuiltinModule('node:https');

export interface FetchResult {
  sha256: string;
  size: number;
}

/** An artifact URL fit for logs and status: the query string (often a signed token) is dropped. */
export function redactUrl(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : `${url.slice(0, q)}?<redacted>`;
}

/** Flags for a staging file: create it, never reuse or follow what is already there. */
export const STAGING_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

export async function sha256File(file: string): Promise<string | null> {
  try {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export interface SourceOptions {
  resolveLocal: (p: string) => Promise<string>;
  timeoutMs: number;
  /** PEM contents for https: the client certificate and key to present, the CA to trust. */
  tls?: { cert: Buffer; key: Buffer; ca: Buffer } | null;
}

/** Read the PEM files named in agent.yaml `tls:` (absolute paths). */
export async function loadTlsMaterial(tls: AgentTls | null): Promise<SourceOptions['tls']> {
  if (!tls) return null;
  const read = async (what: string, file: string) => {
    try {
      return await fsp.readFile(file);
    } catch (e) {
      throw new NwError('NW_TLS', `cannot read the agent's TLS ${what} ${file} (${(e as NodeJS.ErrnoException).code}): fix tls.${what} in agent.yaml`);
    }
  };
  return { cert: await read('cert', tls.cert), key: await read('key', tls.key), ca: await read('ca', tls.ca) };
}

function get(url: string, o: SourceOptions, signal: AbortSignal, hops = 0): Promise<IncomingMessage> {
  const shown = redactUrl(url);
  const secure = url.startsWith('https://');
  return new Promise((resolve, reject) => {
    // with the fleet's TLS material the server must be the controller (role controller), not any holder of a fleet certificate
    const tls = secure && o.tls ? { cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, checkServerIdentity: checkControllerIdentity } : {};
    const req = (secure ? https() : http()).get(url, { signal, ...tls }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && hops < 5) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), o, signal, hops + 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new NwError('NW_DOWNLOAD', `download of ${shown} answered HTTP ${status}: check the artifact URL`));
        return;
      }
      resolve(res);
    });
    req.on('error', (e) => reject(e instanceof NwError ? e : new NwError('NW_DOWNLOAD', `cannot download ${shown}: ${e.message}; check the URL, the TLS material and that the worker can reach it`)));
  });
}

async function openSource(url: string, o: SourceOptions): Promise<Readable> {
  if (/^https?:\/\//.test(url)) return get(url, o, AbortSignal.timeout(o.timeoutMs));
  const local = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!local.startsWith('/')) throw new NwError('NW_DOWNLOAD', `artifact source ${redactUrl(url)} is neither http(s)://, file:// nor an absolute path`);
  const real = await o.resolveLocal(local);
  try {
    await fsp.access(real);
  } catch {
    throw new NwError('NW_DOWNLOAD', `artifact file ${local} does not exist on this worker`);
  }
  return createReadStream(real);
}

/**
 * Copy `url` into `dest` (a real path that must not exist yet: O_EXCL|O_NOFOLLOW), refusing more
 * than `maxBytes`; mode applied and data synced before returning. On failure `dest` is removed.
 */
export async function fetchToFile(
  url: string,
  dest: string,
  o: { maxBytes: number; mode: number; timeoutMs?: number; resolveLocal: (p: string) => Promise<string>; tls?: SourceOptions['tls'] },
): Promise<FetchResult> {
  const src = await openSource(url, { resolveLocal: o.resolveLocal, timeoutMs: o.timeoutMs ?? 300_000, tls: o.tls });
  const h = createHash('sha256');
  let size = 0;
  let fh: FileHandle;
  try {
    fh = await fsp.open(dest, STAGING_FLAGS, 0o600);
  } catch (e) {
    src.destroy();
    throw new NwError('NW_FS', `cannot create the staging file ${dest} (${(e as NodeJS.ErrnoException).code}): remove what is there and retry`);
  }
  try {
    for await (const chunk of src) {
      size += (chunk as Buffer).length;
      if (size > o.maxBytes) {
        throw new NwError('NW_CHECKSUM', `artifact ${redactUrl(url)} is larger than ${o.maxBytes} bytes: refusing it (check the bundle's size)`);
      }
      h.update(chunk as Buffer);
      await fh.write(chunk as Buffer);
    }
    await fh.chmod(o.mode);
    await fh.sync();
  } catch (e) {
    src.destroy();
    await fh.close().catch(() => undefined);
    await fsp.rm(dest, { force: true });
    if (e instanceof NwError) throw e;
    throw new NwError('NW_DOWNLOAD', `reading ${redactUrl(url)} failed: ${(e as Error).message}`);
  }
  await fh.close();
  return { sha256: h.digest('hex'), size };
}
