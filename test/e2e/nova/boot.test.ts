// servers boot --volume-type, the request shape against the real nova-api's schema: at 2.66 it
// rejects volume_type ("Additional properties are not allowed"), at 2.67 the same body passes
// validation (through noauth2 /v2.1, which carries no token to Glance, it fails only where Nova fetches
// the image). The whole command against the real Cinder + Ceph: cinder.test.ts.
import { describe, expect, inject, it, afterAll } from 'vitest';
import { buildBootFromVolumeRequest } from '../../../openstack/boot.js';
import { loadCloudConfig } from '../../../openstack/config.js';
import { ComputeSession } from '../../../openstack/session.js';
import { cliEnv } from './cli.js';

const lab = inject('novaLab');
const NAME = `nw-e2e-bfv-${process.pid}`;

async function adminSession(version?: string) {
  const e = cliEnv(lab);
  const cfg = loadCloudConfig({ cloud: 'lab', env: e.env });
  if (version) cfg.computeApiVersion = version;
  return ComputeSession.open(cfg);
}

async function serversNamed(name: string) {
  const s = await adminSession();
  const r = await s.request({ path: '/servers', query: { all_tenants: 1, name: `^${name}$` } });
  return (r.body as { servers: Array<{ id: string }> }).servers;
}

describe('servers boot --volume-type: the request against real nova-api', () => {
  const body = buildBootFromVolumeRequest({ name: NAME, flavorRef: lab.flavorId, imageRef: lab.imageId, volumeSizeGb: 1, volumeType: 'ceph-ssd', network: 'none' });

  afterAll(async () => {
    // nothing should have been created; remove it if it was
    for (const s of await serversNamed(NAME)) await (await adminSession()).request({ method: 'DELETE', path: `/servers/${s.id}` });
  });

  it('at 2.66 Nova rejects our block_device_mapping_v2 because of volume_type', async () => {
    const s = await adminSession();
    const err = await s.request({ method: 'POST', path: '/servers', body, microversion: '2.66' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NW_OPENSTACK', details: { status: 400 } });
    expect(err.message).toContain("Additional properties are not allowed ('volume_type' was unexpected)");
  });

  it('at 2.67 the same body passes schema validation (fails only where Nova fetches the image for the volume)', async () => {
    const s = await adminSession();
    const err = await s.request({ method: 'POST', path: '/servers', body, microversion: '2.67' }).catch((e) => e);
    expect(err.message).not.toContain('Additional properties');
    expect(err.message).not.toContain('volume_type');
    expect(err.message).toMatch(/Block Device Mapping is Invalid|EmptyCatalog|Unauthorized|AuthorizationFailure/);
  });
});
