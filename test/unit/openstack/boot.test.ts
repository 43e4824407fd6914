import { describe, expect, it } from 'vitest';
import { bootFromVolume, buildBootFromVolumeRequest } from '../../../openstack/boot.js';
import { NovaClient } from '../../../openstack/nova.js';
import { ComputeSession } from '../../../openstack/session.js';
import { adminTokenConfig, fakeFetch, fakeNova, fixture, fixtureText } from './fake-cloud.js';

const IMAGE = '77721839-921c-49a9-b057-35cc0910aac2';

describe('boot from a volume of a Cinder volume type', () => {
  it('the request matches the api-ref v2.67 server-create template (same BDM keys, volume_type inside block_device_mapping_v2)', () => {
    const tpl = JSON.parse(fixtureText('server-create-req.v2.67.json.tpl').replace(/"%\([a-z_]+\)s[^"]*"/g, '"x"'));
    const body = buildBootFromVolumeRequest({ name: 'test-01', flavorRef: '1', imageRef: IMAGE, volumeSizeGb: 50, volumeType: 'ceph-ssd' });
    const ours = body.server.block_device_mapping_v2 as Array<Record<string, unknown>>;
    const theirs = tpl.server.block_device_mapping_v2[0] as Record<string, unknown>;
    const optional = new Set(['tag', 'delete_on_termination']);
    expect(Object.keys(ours[0]).filter((k) => !optional.has(k)).sort()).toEqual(Object.keys(theirs).filter((k) => !optional.has(k)).sort());
    expect(ours[0]).toMatchObject({ source_type: 'image', destination_type: 'volume', boot_index: 0, volume_size: 50, volume_type: 'ceph-ssd', uuid: IMAGE });
    expect(body.server).toMatchObject({ name: 'test-01', flavorRef: '1', networks: 'auto' });
  });

  it('is the exact body the lab rejected at 2.66 ("volume_type was unexpected")', () => {
    const rejected = (fixture('boot-from-volume-type.v2.66-rejected.json') as { badRequest: { message: string } }).badRequest.message;
    expect(rejected).toContain("'volume_type' was unexpected");
    for (const k of ['boot_index', 'source_type', 'destination_type', 'volume_size', 'volume_type', 'delete_on_termination']) expect(rejected).toContain(`'${k}'`);
  });

  it('validates its input with NW_USAGE', () => {
    const ok = { name: 'n', flavorRef: '1', imageRef: IMAGE, volumeSizeGb: 1, volumeType: 't' };
    expect(() => buildBootFromVolumeRequest({ ...ok, volumeSizeGb: 0 })).toThrow(/--boot-volume-size/);
    expect(() => buildBootFromVolumeRequest({ ...ok, imageRef: 'cirros' })).toThrow(/image UUID/);
    expect(() => buildBootFromVolumeRequest({ ...ok, network: 'private' })).toThrow(/--network/);
    expect(buildBootFromVolumeRequest({ ...ok, network: IMAGE }).server.networks).toEqual([{ uuid: IMAGE }]);
  });

  it('below 2.67 it fails with NW_MICROVERSION before sending anything', async () => {
    const f = fakeFetch(fakeNova());
    const cfg = { ...adminTokenConfig(), computeApiVersion: '2.66' };
    const nova = new NovaClient(await ComputeSession.open(cfg, { fetch: f.fetch }));
    await expect(bootFromVolume(nova, { name: 'n', flavorRef: '1', imageRef: IMAGE, volumeSizeGb: 1, volumeType: 'ceph-ssd' })).rejects.toMatchObject({
      code: 'NW_MICROVERSION',
      message: expect.stringContaining('needs compute microversion 2.67'),
    });
    expect(f.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });
});
