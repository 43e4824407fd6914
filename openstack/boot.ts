// Boot a server from a new volume of a given Cinder volume type — the seed's
// `nova boot --block-device id=<image>,source=image,dest=volume,size=50,bootindex=0,shutdown=remove,volume_type=ceph-ssd`.
// Upstream Nova accepts volume_type in block_device_mapping_v2 from microversion 2.67.
// Order matters for "nothing half-created": every check that can fail without side effects
// (microversion, Cinder reachable, the type exists, flavor, image) runs before POST /servers; a
// server that goes to ERROR is deleted together with its boot volume, and what is left is named.
import { NwError } from '../host/errors.js';
import type { CinderClient, VolumeView } from './cinder.js';
import { FEATURE_MIN, requireMicroversion } from './microversion.js';
import type { NovaClient, RawServer } from './nova.js';

export interface BootFromVolumeArgs {
  name: string;
  flavorRef: string;
  imageRef: string;
  volumeSizeGb: number;
  volumeType: string;
  /** A network UUID, or "auto" / "none". Default "auto". */
  network?: string;
  deleteOnTermination?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The POST /servers body (pure): matches the api-ref v2.67 server-create-req template. */
export function buildBootFromVolumeRequest(a: BootFromVolumeArgs): { server: Record<string, unknown> } {
  if (!a.name) throw new NwError('NW_USAGE', 'a server name is required');
  if (!Number.isInteger(a.volumeSizeGb) || a.volumeSizeGb <= 0) {
    throw new NwError('NW_USAGE', `--boot-volume-size must be a positive whole number of GiB, got ${a.volumeSizeGb}`);
  }
  if (!a.volumeType) throw new NwError('NW_USAGE', '--volume-type is required (a Cinder volume type, e.g. ceph-ssd)');
  if (!UUID.test(a.imageRef)) throw new NwError('NW_USAGE', `--image must be an image UUID, got '${a.imageRef}'`);
  const net = a.network ?? 'auto';
  let networks: unknown;
  if (net === 'auto' || net === 'none') networks = net;
  else if (UUID.test(net)) networks = [{ uuid: net }];
  else throw new NwError('NW_USAGE', `--network must be a network UUID, "auto" or "none", got '${net}'`);
  return {
    server: {
      name: a.name,
      flavorRef: a.flavorRef,
      networks,
      block_device_mapping_v2: [
        {
          uuid: a.imageRef,
          source_type: 'image',
          destination_type: 'volume',
          boot_index: 0,
          volume_size: a.volumeSizeGb,
          volume_type: a.volumeType,
          delete_on_termination: a.deleteOnTermination ?? true,
        },
      ],
    },
  };
}

/** Resolve a flavor given by id or name. */
export async function resolveFlavor(nova: NovaClient, flavor: string): Promise<string> {
  const flavors = await nova.listFlavors();
  const byId = flavors.find((f) => f.id === flavor);
  if (byId) return byId.id;
  const byName = flavors.filter((f) => f.name === flavor);
  if (byName.length === 1) return byName[0].id;
  if (byName.length > 1) throw new NwError('NW_AMBIGUOUS', `${byName.length} flavors are named '${flavor}'; give the flavor id`);
  throw new NwError('NW_NOT_FOUND', `no flavor with id or name '${flavor}'; list them with 'openstack flavor list'`);
}

/** Resolve an image given by UUID or exact name. */
export async function resolveImage(nova: NovaClient, image: string): Promise<string> {
  if (UUID.test(image)) return image;
  const hits = await nova.imagesNamed(image);
  if (hits.length === 1) return hits[0].id;
  if (hits.length > 1) throw new NwError('NW_AMBIGUOUS', `${hits.length} images are named '${image}'; give the image UUID`);
  throw new NwError('NW_NOT_FOUND', `no image named '${image}'; give the image UUID ('openstack image list')`);
}

/** The volume type by name or id; unknown → NW_VOLUME_TYPE listing what exists. */
export async function checkVolumeType(cinder: CinderClient, type: string): Promise<void> {
  const types = await cinder.listVolumeTypes();
  if (types.some((t) => t.name === type || t.id === type)) return;
  throw new NwError(
    'NW_VOLUME_TYPE',
    `Cinder has no volume type '${type}'; use one of: ${types.map((t) => t.name).join(', ') || '(none defined)'} ('nodewright volume-types ls'); nothing was created`,
    { volume_type: type },
  );
}

/** Only the bare "request sent" variant: checks the microversion, resolves the flavor, POSTs. */
export async function bootFromVolume(nova: NovaClient, a: BootFromVolumeArgs): Promise<{ id: string; request: unknown; microversion: string }> {
  requireMicroversion(nova.microversion, FEATURE_MIN.bootVolumeType, 'boot with --volume-type (block_device_mapping_v2 volume_type)');
  const request = buildBootFromVolumeRequest({ ...a, flavorRef: await resolveFlavor(nova, a.flavorRef) });
  const server = await createOrExplain(nova, request, a.volumeType);
  return { id: server.id, request, microversion: nova.microversion };
}

export interface BootResult {
  id: string;
  name: string;
  status: string;
  /** OS-EXT-SRV-ATTR:host (admin) */
  host: string | null;
  volume_type: string;
  boot_volume: VolumeView | { id: string } | null;
  microversion: string;
}

export interface BootOptions {
  wait: boolean;
  timeoutMs: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The full `servers boot`: pre-flight checks, POST, and with `wait` poll until ACTIVE. A server that
 * goes to ERROR is deleted (its boot volume goes with it: delete_on_termination) and NW_BOOT_FAILED
 * names what, if anything, is left.
 */
export async function bootServer(nova: NovaClient, cinder: CinderClient, a: BootFromVolumeArgs, o: BootOptions): Promise<BootResult> {
  requireMicroversion(nova.microversion, FEATURE_MIN.bootVolumeType, 'boot with --volume-type (block_device_mapping_v2 volume_type)');
  await checkVolumeType(cinder, a.volumeType);
  const request = buildBootFromVolumeRequest({
    ...a,
    flavorRef: await resolveFlavor(nova, a.flavorRef),
    imageRef: await resolveImage(nova, a.imageRef),
  });
  const { id } = await createOrExplain(nova, request, a.volumeType);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  let s = await nova.getServer(id);
  while (o.wait && s && s.status === 'BUILD' && now() < deadline) {
    await sleep(o.pollMs ?? 1000);
    s = await nova.getServer(id);
  }
  if (!s) throw new NwError('NW_BOOT_FAILED', `server ${a.name} (${id}) disappeared while building; nothing of it is left in Nova`, { id });
  if (o.wait && s.status === 'ERROR') throw await cleanUpFailed(nova, cinder, s, sleep);
  if (o.wait && s.status !== 'ACTIVE') {
    throw new NwError(
      'NW_BOOT_FAILED',
      `server ${a.name} (${id}) is still ${s.status} after ${Math.round(o.timeoutMs / 1000)} s; it is left as it is: watch it, or delete it with 'openstack server delete ${id}' (its boot volume goes with it)`,
      { id, status: s.status },
    );
  }
  const volId = s['os-extended-volumes:volumes_attached']?.[0]?.id;
  return {
    id,
    name: s.name,
    status: s.status,
    host: s['OS-EXT-SRV-ATTR:host'] ?? null,
    volume_type: a.volumeType,
    boot_volume: volId ? ((await cinder.getVolume(volId).catch(() => null)) ?? { id: volId }) : null,
    microversion: nova.microversion,
  };
}

/** POST /servers; Nova's own "volume type not found" (a race with the pre-flight) becomes NW_VOLUME_TYPE. */
async function createOrExplain(nova: NovaClient, request: unknown, type: string): Promise<{ id: string }> {
  try {
    return await nova.createServer(request);
  } catch (e) {
    if (e instanceof NwError && /Volume type .* could not be found/i.test(e.message)) {
      throw new NwError('NW_VOLUME_TYPE', `Nova: volume type '${type}' could not be found; use one of 'nodewright volume-types ls'; nothing was created`, { volume_type: type });
    }
    throw e;
  }
}

async function cleanUpFailed(nova: NovaClient, cinder: CinderClient, s: RawServer, sleep: (ms: number) => Promise<void>): Promise<NwError> {
  const fault = s.fault?.message ?? 'no fault message';
  const volumes = (s['os-extended-volumes:volumes_attached'] ?? []).map((v) => v.id);
  const left: string[] = [];
  const problems: string[] = [];
  // the cleanup must never hide the boot failure: its own errors only add to what is reported as left
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  };
  await attempt('deleting the server', () => nova.deleteServer(s.id));
  let gone = false;
  for (let i = 0; i < 90 && !gone; i++) {
    gone = (await attempt('reading the server', () => nova.getServer(s.id))) === null;
    if (!gone) await sleep(1000);
  }
  if (!gone) left.push(`server ${s.id} (delete it with 'openstack server delete ${s.id}')`);
  for (const v of volumes) {
    let vol = await cinder.getVolume(v).catch(() => null);
    for (let i = 0; i < 30 && vol && vol.status !== 'deleting'; i++) {
      if (i === 10 && vol.attachments.length === 0 && ['available', 'error'].includes(vol.status)) await attempt('deleting the volume', () => cinder.deleteVolume(v));
      await sleep(1000);
      vol = await cinder.getVolume(v).catch(() => null);
    }
    if (vol && vol.status !== 'deleting') left.push(`volume ${v} (${vol.status}; delete it with 'openstack volume delete ${v}')`);
  }
  const what = left.length
    ? `left behind: ${left.join(', ')}${problems.length ? ` (cleanup: ${problems.join('; ')})` : ''}`
    : `deleted the server${volumes.length ? ` and its boot volume ${volumes.join(', ')}` : ''}; nothing is left`;
  return new NwError('NW_BOOT_FAILED', `server ${s.name} (${s.id}) went to ERROR: ${fault}; ${what}`, { id: s.id, fault, left });
}
