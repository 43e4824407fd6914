// Boot a server from a new volume of a given Cinder volume type — the seed's
// `nova boot --block-device id=<image>,source=image,dest=volume,size=50,bootindex=0,shutdown=remove,volume_type=ceph-ssd`.
// Upstream Nova accepts volume_type in block_device_mapping_v2 from microversion 2.67.
import { NwError } from '../host/errors.js';
import { FEATURE_MIN, requireMicroversion } from './microversion.js';
import type { NovaClient } from './nova.js';

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
    throw new NwError('NW_USAGE', `--volume-size must be a positive whole number of GB, got ${a.volumeSizeGb}`);
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

export async function bootFromVolume(nova: NovaClient, a: BootFromVolumeArgs): Promise<{ id: string; request: unknown; microversion: string }> {
  requireMicroversion(nova.microversion, FEATURE_MIN.bootVolumeType, 'boot with --volume-type (block_device_mapping_v2 volume_type)');
  const request = buildBootFromVolumeRequest({ ...a, flavorRef: await resolveFlavor(nova, a.flavorRef) });
  const server = await nova.createServer(request);
  return { id: server.id, request, microversion: nova.microversion };
}
