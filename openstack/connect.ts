// Wire a CloudConfig to a ready ComputeNodes: session (auth + microversion), Nova client,
// host_ip index. The CLI keeps the index and version range on disk between runs; the
// controller server keeps them in memory.
import { cacheFile, defaultCacheDir, readCache, writeCache, type EndpointCache } from './cache.js';
import { ComputeNodes } from './compute-nodes.js';
import type { CloudConfig } from './config.js';
import type { FetchLike } from './http.js';
import { DEFAULT_INDEX_TTL_MS, HypervisorIndex } from './hypervisor-index.js';
import { NovaClient } from './nova.js';
import { ComputeSession } from './session.js';

export interface ConnectOptions {
  fetch?: FetchLike;
  /** Directory for the on-disk cache; undefined = memory only. */
  cacheDir?: string;
  indexTtlMs?: number;
  /** How long a remembered version range is trusted. */
  versionsTtlMs?: number;
  now?: () => number;
  retries?: number;
  backoffMs?: number;
}

export interface ComputeConnection {
  session: ComputeSession;
  nova: NovaClient;
  nodes: ComputeNodes;
}

export { defaultCacheDir };

/** Identifies the cloud without secrets (endpoint or auth_url + scope). */
export function cloudCacheKey(cfg: CloudConfig): string {
  const a = cfg.auth;
  const base = a.type === 'admin_token' ? `token@${a.endpoint}` : `password@${a.authUrl}|${a.projectId ?? a.projectName}|${a.projectDomainId ?? a.projectDomainName}`;
  return `${base}|${cfg.regionName ?? ''}|${cfg.interface}|${cfg.computeEndpointOverride ?? ''}|${cfg.computeApiVersion ?? ''}`;
}

export async function connectCompute(cfg: CloudConfig, opts: ConnectOptions = {}): Promise<ComputeConnection> {
  const now = opts.now ?? Date.now;
  const ttl = opts.indexTtlMs ?? DEFAULT_INDEX_TTL_MS;
  const key = cloudCacheKey(cfg);
  const file = opts.cacheDir ? cacheFile(opts.cacheDir, key) : undefined;
  const cached: EndpointCache | undefined = file ? readCache(file, key) : undefined;
  const versionsFresh = cached?.versions && cached.versionsFetchedAt && now() - cached.versionsFetchedAt < (opts.versionsTtlMs ?? 3_600_000);
  const session = await ComputeSession.open(cfg, {
    fetch: opts.fetch,
    retries: opts.retries,
    backoffMs: opts.backoffMs,
    knownVersions: versionsFresh ? cached!.versions : undefined,
  });
  const state: EndpointCache = {
    key,
    endpoint: session.endpoint,
    versions: session.versions,
    versionsFetchedAt: versionsFresh ? cached!.versionsFetchedAt : now(),
    index: cached?.endpoint === session.endpoint ? cached.index : undefined,
  };
  if (file && !versionsFresh) writeCache(file, state);
  const nova = new NovaClient(session);
  const index = new HypervisorIndex({
    load: () => nova.listHypervisorsDetail(),
    ttlMs: ttl,
    now,
    initial: state.index,
    onRefresh: (snap) => {
      if (file) writeCache(file, { ...state, index: snap });
    },
  });
  return { session, nova, nodes: new ComputeNodes(nova, index) };
}
