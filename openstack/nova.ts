// Nova (compute) API calls nodewright needs, with paging and normalised results.
import { NwError } from '../host/errors.js';
import { FEATURE_MIN, requireMicroversion, supports } from './microversion.js';
import type { ComputeSession } from './session.js';
import type { HypervisorView, ServerView } from './types.js';

/** Raw Nova hypervisor (detail/show) as returned at any microversion. */
export interface RawHypervisor {
  id: string | number;
  hypervisor_hostname: string;
  host_ip?: string | null;
  state: string;
  status: string;
  service?: { host?: string; id?: string | number } | null;
}

export interface RawServer {
  id: string;
  name: string;
  status: string;
  tenant_id?: string;
  addresses?: ServerView['addresses'];
  flavor?: { id?: string; original_name?: string };
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-SRV-ATTR:hypervisor_hostname'?: string | null;
  'os-extended-volumes:volumes_attached'?: Array<{ id: string; delete_on_termination?: boolean }>;
  fault?: { message?: string; code?: number };
}

export function toHypervisorView(h: RawHypervisor): HypervisorView {
  return {
    id: String(h.id),
    hypervisor_hostname: h.hypervisor_hostname,
    host_ip: h.host_ip ?? null,
    service_host: h.service?.host ?? null,
    state: h.state,
    status: h.status,
  };
}

export function toServerView(s: RawServer): ServerView {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    addresses: s.addresses ?? {},
    project_id: s.tenant_id ?? '',
    flavor: s.flavor?.original_name ?? s.flavor?.id ?? '',
  };
}

const PAGE_LIMIT = 1000;
const MAX_PAGES = 1000;

export class NovaClient {
  constructor(readonly session: ComputeSession) {}

  get microversion(): string {
    return this.session.microversion;
  }

  /** GET /os-hypervisors/detail, every page (limit/marker from 2.33). host_ip is only here. */
  async listHypervisorsDetail(): Promise<HypervisorView[]> {
    const paging = supports(this.microversion, FEATURE_MIN.hypervisorPaging);
    const raw = await this.pages<RawHypervisor>('/os-hypervisors/detail', 'hypervisors', {}, paging);
    return raw.map(toHypervisorView);
  }

  /**
   * Hypervisors whose hostname contains `pattern` (2.53 hypervisor_hostname_pattern, substring match).
   * 404 (no match) → []. No `limit`: Nova answers 400 to pattern + limit.
   */
  async hypervisorsByHostnamePattern(pattern: string): Promise<HypervisorView[]> {
    requireMicroversion(this.microversion, FEATURE_MIN.hypervisorHostnamePattern, 'hypervisor_hostname_pattern');
    try {
      const res = await this.session.request({ path: '/os-hypervisors/detail', query: { hypervisor_hostname_pattern: pattern } });
      return ((res.body as { hypervisors?: RawHypervisor[] }).hypervisors ?? []).map(toHypervisorView);
    } catch (e) {
      if (e instanceof NwError && e.code === 'NW_NOT_FOUND') return [];
      throw e;
    }
  }

  /** Servers of every project on one compute service host (admin). */
  async listServersOnHost(serviceHost: string): Promise<ServerView[]> {
    const raw = await this.pages<RawServer>('/servers/detail', 'servers', { all_tenants: 1, host: serviceHost }, true);
    return raw.map(toServerView);
  }

  /**
   * Servers with exactly this address. Nova's `ip` filter is a substring match (Neutron
   * ip_address_substr) or an unanchored regex, so 10.0.0.1 also finds 10.0.0.10: keep exact hits only.
   */
  async listServersByIp(ip: string): Promise<RawServer[]> {
    const raw = await this.pages<RawServer>('/servers/detail', 'servers', { all_tenants: 1, ip }, true);
    return raw.filter((s) => Object.values(s.addresses ?? {}).some((list) => list.some((a) => a.addr === ip)));
  }

  /** One server (any project, admin), or null once Nova no longer has it. */
  async getServer(id: string): Promise<RawServer | null> {
    try {
      return ((await this.session.request({ path: `/servers/${encodeURIComponent(id)}` })).body as { server: RawServer }).server;
    } catch (e) {
      if (e instanceof NwError && e.code === 'NW_NOT_FOUND') return null;
      throw e;
    }
  }

  /** DELETE is not retried by http.ts (not a GET), but deleting a server twice is harmless: retry 5xx. */
  async deleteServer(id: string, attempts = 3, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.session.request({ method: 'DELETE', path: `/servers/${encodeURIComponent(id)}` });
        return;
      } catch (e) {
        if (e instanceof NwError && e.code === 'NW_NOT_FOUND') return;
        const status = (e as NwError).details?.status as number | undefined;
        if (i >= attempts || !(e instanceof NwError) || !(status && status >= 500)) throw e;
        await sleep(1000 * i);
      }
    }
  }

  /** Every server of every project (admin), with addresses and OS-EXT-SRV-ATTR:host. */
  async listAllServers(): Promise<RawServer[]> {
    return this.pages<RawServer>('/servers/detail', 'servers', { all_tenants: 1 }, true);
  }

  /** Images named exactly `name`, through Nova's image proxy (removed at 2.36, so asked at 2.35). */
  async imagesNamed(name: string): Promise<Array<{ id: string; name: string }>> {
    const res = await this.session.request({ path: '/images', query: { name }, microversion: '2.35' });
    return ((res.body as { images?: Array<{ id: string; name: string }> }).images ?? []).filter((i) => i.name === name);
  }

  async listFlavors(): Promise<Array<{ id: string; name: string }>> {
    const res = await this.session.request({ path: '/flavors/detail', query: { is_public: 'None' } });
    return (res.body as { flavors?: Array<{ id: string; name: string }> }).flavors ?? [];
  }

  async createServer(body: unknown, microversion?: string): Promise<{ id: string; [k: string]: unknown }> {
    const res = await this.session.request({ method: 'POST', path: '/servers', body, microversion });
    return (res.body as { server: { id: string } }).server;
  }

  /** Follow limit/marker paging: the `<key>_links` rel=next link when present, else the last id as marker. */
  private async pages<T extends { id: string | number }>(
    path: string,
    key: string,
    query: Record<string, string | number>,
    paging: boolean,
  ): Promise<T[]> {
    const out: T[] = [];
    let marker: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = paging ? { ...query, limit: PAGE_LIMIT, ...(marker ? { marker } : {}) } : query;
      const res = await this.session.request({ path, query: q });
      const body = res.body as Record<string, unknown>;
      const items = (body[key] as T[] | undefined) ?? [];
      out.push(...items);
      if (!paging) return out;
      const links = (body[`${key}_links`] as Array<{ rel: string; href: string }> | undefined) ?? [];
      const next = links.find((l) => l.rel === 'next');
      const nextMarker = next ? new URL(next.href).searchParams.get('marker') ?? undefined : undefined;
      if (nextMarker) marker = nextMarker;
      else if (items.length >= PAGE_LIMIT) marker = String(items[items.length - 1].id);
      else return out;
    }
    throw new NwError('NW_OPENSTACK', `${path}: more than ${MAX_PAGES} pages; refusing to continue`);
  }
}
