// Compute API microversions: parse, compare, negotiate with the endpoint's version document,
// and let each feature state the minimum it needs.
import { NwError } from '../host/errors.js';

export interface Microversion {
  major: number;
  minor: number;
}

/** The highest compute microversion this client understands (Nova Zed offers 2.93). */
export const CLIENT_MAX_MICROVERSION = '2.93';

/** Minimum microversion per feature. */
export const FEATURE_MIN = {
  /** networks: "none"/"auto" on boot */
  bootNetworksKeyword: '2.37',
  /** hypervisor_hostname_pattern / with_servers as query parameters, UUID ids */
  hypervisorHostnamePattern: '2.53',
  /** limit/marker paging on /os-hypervisors */
  hypervisorPaging: '2.33',
  /** volume_type in block_device_mapping_v2 */
  bootVolumeType: '2.67',
} as const;

export function parseMicroversion(s: string): Microversion {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(s);
  if (!m) throw new NwError('NW_MICROVERSION', `'${s}' is not a compute microversion (expected MAJOR.MINOR, e.g. 2.67, or "latest")`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export const formatMicroversion = (v: Microversion): string => `${v.major}.${v.minor}`;

export function compareMicroversions(a: string | Microversion, b: string | Microversion): number {
  const x = typeof a === 'string' ? parseMicroversion(a) : a;
  const y = typeof b === 'string' ? parseMicroversion(b) : b;
  return x.major - y.major || x.minor - y.minor;
}

export interface ServerVersionRange {
  min: string;
  max: string;
}

/** Reads {"version": {...}} (endpoint document) or {"versions": [...]} (root document). */
export function versionRangeFromDocument(doc: unknown): ServerVersionRange | undefined {
  const d = doc as { version?: VersionEntry; versions?: VersionEntry[] } | null;
  const entry = d?.version ?? d?.versions?.find((v) => v.id === 'v2.1') ?? d?.versions?.find((v) => v.status === 'CURRENT');
  if (!entry) return undefined;
  if (!entry.version) return { min: '2.0', max: '2.0' }; // legacy v2.0: no microversions
  return { min: entry.min_version || '2.1', max: entry.version };
}

interface VersionEntry {
  id?: string;
  status?: string;
  version?: string;
  min_version?: string;
}

/**
 * The version to send: the highest the client supports up to what the server offers,
 * or the requested one if the server offers it.
 */
export function negotiateMicroversion(server: ServerVersionRange, requested?: string): string {
  if (server.max === '2.0') {
    throw new NwError('NW_MICROVERSION', 'the compute endpoint is the legacy v2.0 API without microversions; point the endpoint at /v2.1');
  }
  if (requested && requested !== 'latest') {
    const r = formatMicroversion(parseMicroversion(requested));
    if (compareMicroversions(r, server.min) < 0 || compareMicroversions(r, server.max) > 0) {
      throw new NwError('NW_MICROVERSION', `requested compute microversion ${r} is outside what the server offers (${server.min}–${server.max}); change compute_api_version / OS_COMPUTE_API_VERSION`);
    }
    if (compareMicroversions(r, CLIENT_MAX_MICROVERSION) > 0) {
      throw new NwError('NW_MICROVERSION', `requested compute microversion ${r} is above what nodewright understands (${CLIENT_MAX_MICROVERSION})`);
    }
    return r;
  }
  return compareMicroversions(server.max, CLIENT_MAX_MICROVERSION) < 0 ? formatMicroversion(parseMicroversion(server.max)) : CLIENT_MAX_MICROVERSION;
}

export const supports = (current: string, min: string): boolean => compareMicroversions(current, min) >= 0;

export function requireMicroversion(current: string, min: string, feature: string): void {
  if (!supports(current, min)) {
    throw new NwError('NW_MICROVERSION', `${feature} needs compute microversion ${min} or later, but this session uses ${current}; upgrade Nova or raise compute_api_version`, { current, min });
  }
}
