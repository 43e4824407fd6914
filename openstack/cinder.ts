// Cinder (block storage v3) calls nodewright needs: volume types (what --volume-type may name) and
// volumes (the boot volume Nova made). Same token as the compute session; the endpoint comes from
// clouds.yaml block_storage_endpoint_override or the catalog (volumev3, then block-storage).
// Unreachable or failing Cinder → NW_CINDER_UNAVAILABLE, so callers can stop before creating anything.
import { NwError } from '../host/errors.js';
import type { CloudConfig } from './config.js';
import { findEndpoint } from './keystone.js';
import type { ComputeSession } from './session.js';

export interface VolumeTypeView {
  id: string;
  name: string;
  /** extra spec volume_backend_name: the Cinder backend (here: an RBD pool) the type lands on */
  backend: string | null;
  is_public: boolean;
}

export interface VolumeView {
  id: string;
  status: string;
  volume_type: string | null;
  size: number;
  /** os-vol-host-attr:host (admin): cinder-host@backend#pool */
  host: string | null;
  attachments: Array<{ server_id: string }>;
}

interface RawVolumeType {
  id: string;
  name: string;
  extra_specs?: Record<string, string>;
  'os-volume-type-access:is_public'?: boolean;
  is_public?: boolean;
}

interface RawVolume {
  id: string;
  status: string;
  volume_type?: string | null;
  size: number;
  'os-vol-host-attr:host'?: string | null;
  attachments?: Array<{ server_id: string }>;
}

export const toVolumeTypeView = (t: RawVolumeType): VolumeTypeView => ({
  id: t.id,
  name: t.name,
  backend: t.extra_specs?.volume_backend_name ?? null,
  is_public: t['os-volume-type-access:is_public'] ?? t.is_public ?? true,
});

export const toVolumeView = (v: RawVolume): VolumeView => ({
  id: v.id,
  status: v.status,
  volume_type: v.volume_type ?? null,
  size: v.size,
  host: v['os-vol-host-attr:host'] ?? null,
  attachments: (v.attachments ?? []).map((a) => ({ server_id: a.server_id })),
});

/** The Cinder v3 endpoint for this cloud, or a coded error saying how to configure one. */
export function blockStorageEndpoint(cfg: CloudConfig, session: ComputeSession): string {
  if (cfg.blockStorageEndpointOverride) return cfg.blockStorageEndpointOverride.replace(/\/+$/, '');
  if (!session.catalog) {
    throw new NwError(
      'NW_CONFIG',
      `${cfg.source}: auth_type admin_token has no service catalog; set block_storage_endpoint_override (the Cinder v3 URL, e.g. http://cinder:8776/v3/PROJECT) in clouds.yaml`,
    );
  }
  const types = session.catalog.map((s) => s.type);
  const type = types.includes('volumev3') ? 'volumev3' : 'block-storage';
  return findEndpoint(session.catalog, type, cfg.interface, cfg.regionName).replace(/\/+$/, '');
}

export class CinderClient {
  constructor(
    readonly endpoint: string,
    private readonly session: ComputeSession,
  ) {}

  /** Every volume type the caller may use (is_public=None: private ones it has access to, too). */
  async listVolumeTypes(): Promise<VolumeTypeView[]> {
    const body = (await this.get('/types?is_public=None')) as { volume_types?: RawVolumeType[] };
    return (body.volume_types ?? []).map(toVolumeTypeView);
  }

  /** The volume, or null when Cinder no longer has it. */
  async getVolume(id: string): Promise<VolumeView | null> {
    try {
      return toVolumeView(((await this.get(`/volumes/${encodeURIComponent(id)}`)) as { volume: RawVolume }).volume);
    } catch (e) {
      if (e instanceof NwError && e.code === 'NW_NOT_FOUND') return null;
      throw e;
    }
  }

  async deleteVolume(id: string): Promise<void> {
    try {
      await this.session.requestUrl({ method: 'DELETE', url: `${this.endpoint}/volumes/${encodeURIComponent(id)}` });
    } catch (e) {
      if (!(e instanceof NwError && e.code === 'NW_NOT_FOUND')) throw e;
    }
  }

  private async get(p: string): Promise<unknown> {
    try {
      return (await this.session.requestUrl({ url: `${this.endpoint}${p}` })).body;
    } catch (e) {
      throw unavailable(e, this.endpoint);
    }
  }
}

/** Connection failures and 5xx mean "Cinder is down": say so, and that nothing was created. */
export function unavailable(e: unknown, endpoint: string): unknown {
  if (!(e instanceof NwError) || e.code !== 'NW_OPENSTACK') return e;
  const d = (e.details ?? {}) as { connection?: boolean; timeout?: boolean; status?: number };
  if (d.connection || d.timeout || (d.status ?? 0) >= 500) {
    return new NwError(
      'NW_CINDER_UNAVAILABLE',
      `Cinder at ${endpoint} is not answering (${e.message}); start cinder-api/cinder-volume or fix block_storage_endpoint_override, then retry`,
      { endpoint },
    );
  }
  return e;
}
