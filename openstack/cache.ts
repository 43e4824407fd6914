// On-disk cache for the CLI, one file per compute endpoint: the server's microversion range and
// the hypervisor index (hostnames and host IPs only; never tokens). Mode 0600, atomic replace.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IndexSnapshot } from './hypervisor-index.js';
import type { ServerVersionRange } from './microversion.js';

export interface EndpointCache {
  endpoint: string;
  versions?: ServerVersionRange;
  versionsFetchedAt?: number;
  index?: IndexSnapshot;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'nodewright', 'openstack');
}

export function cacheFile(dir: string, key: string): string {
  return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
}

export function readCache(file: string): EndpointCache | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EndpointCache;
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
