// On-disk cache for the CLI, one file per compute endpoint: the server's microversion range and
// the hypervisor index (hostnames and host IPs only; never tokens). Mode 0600, atomic replace.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IndexSnapshot } from './hypervisor-index.js';
import type { ServerVersionRange } from './microversion.js';

export interface EndpointCache {
  /** the cloud's cache key (connect.ts cloudCacheKey): a file whose key differs is another cloud's */
  key?: string;
  endpoint: string;
  versions?: ServerVersionRange;
  versionsFetchedAt?: number;
  index?: IndexSnapshot;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'nodewright', 'openstack');
}

/**
 * The file of a cloud's key, named by its 64-bit FNV-1a hash: the key is no secret, and a short
 * lookup does not load node:crypto for it (~8 ms of CPU: bench P4). Two keys of one name only
 * take turns in the file: readCache checks the key written inside.
 */
export function cacheFile(dir: string, key: string): string {
  return path.join(dir, `${fnv1a64(key)}.json`);
}

export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** The cache of `key` in `file`, or undefined when it is absent, corrupt or another key's. */
export function readCache(file: string, key: string): EndpointCache | undefined {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as EndpointCache;
    return c?.key === key ? c : undefined;
  } catch {
    return undefined; // absent or corrupt: start cold
  }
}

export function writeCache(file: string, c: EndpointCache): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(c) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs API calls next time
  }
}
