// servers boot end to end against a fake Nova + Cinder: the pre-flight checks stop before POST
// /servers, and a server that goes to ERROR is deleted and the outcome names what is left.
import { describe, expect, it } from 'vitest';
import { bootServer } from '../../../openstack/boot.js';
import { blockStorageEndpoint, CinderClient } from '../../../openstack/cinder.js';
import { NovaClient } from '../../../openstack/nova.js';
import { ComputeSession } from '../../../openstack/session.js';
import { adminTokenConfig, fakeFetch, fakeNova, type Handler } from './fake-cloud.js';

const IMAGE = '77721839-921c-49a9-b057-35cc0910aac2';
const SID = 'aaaaaaaa-0000-4000-8000-000000000001';
const VID = 'bbbbbbbb-0000-4000-8000-000000000002';
const TYPES = { volume_types: [{ id: 't1', name: 'ceph-ssd', extra_specs: { volume_backend_name: 'ceph-ssd' }, 'os-volume-type-access:is_public': true }] };

function cloud(opts: { cinderDown?: boolean; endState?: 'ACTIVE' | 'ERROR' } = {}) {
  const nova = fakeNova();
  let deleted = false;
  const handler: Handler = (c) => {
    const p = c.url.pathname;
    if (c.url.host === 'cinder.test') {
      if (opts.cinderDown) return { status: 503, body: { error: { message: 'down' } } };
      if (p === '/v3/admin/types') return { status: 200, body: TYPES };
      if (p === `/v3/admin/volumes/${VID}`) {
        return deleted ? { status: 404, body: {} } : { status: 200, body: { volume: { id: VID, status: 'in-use', volume_type: 'ceph-ssd', size: 1, attachments: [{ server_id: SID }] } } };
      }
      return undefined;
    }
    if (p === '/v2.1/flavors/detail') return { status: 200, body: { flavors: [{ id: '2', name: 'm1.tiny' }] } };
    if (p === '/v2.1/servers' && c.method === 'POST') return { status: 202, body: { server: { id: SID } } };
    if (p === `/v2.1/servers/${SID}`) {
      if (c.method === 'DELETE') {
        deleted = true;
        return { status: 204 };
      }
      if (deleted) return { status: 404, body: {} };
      const status = opts.endState ?? 'ACTIVE';
      return {
        status: 200,
        body: { server: { id: SID, name: 'w1', status, 'OS-EXT-SRV-ATTR:host': 'cmp-a', 'os-extended-volumes:volumes_attached': [{ id: VID }], ...(status === 'ERROR' ? { fault: { message: 'Build of instance aborted: Volume did not finish being created' } } : {}) } },
      };
    }
    return nova(c);
  };
  return fakeFetch(handler);
}

async function run(f: ReturnType<typeof fakeFetch>, type = 'ceph-ssd', version?: string) {
  const session = await ComputeSession.open(adminTokenConfig(version ? { computeApiVersion: version } : {}), { fetch: f.fetch, retries: 0 });
  const args = { name: 'w1', flavorRef: 'm1.tiny', imageRef: IMAGE, volumeSizeGb: 1, volumeType: type, network: 'none' };
  return bootServer(new NovaClient(session), new CinderClient('http://cinder.test/v3/admin', session), args, { wait: true, timeoutMs: 10_000, sleep: async () => {} });
}
const posts = (f: ReturnType<typeof fakeFetch>) => f.calls.filter((c) => c.method === 'POST');

describe('servers boot flow', () => {
  it('ACTIVE: one object with id, status, host, volume_type and the boot volume', async () => {
    const f = cloud();
    const r = await run(f);
    expect(r).toMatchObject({ id: SID, status: 'ACTIVE', host: 'cmp-a', volume_type: 'ceph-ssd', boot_volume: { id: VID, volume_type: 'ceph-ssd' } });
    expect((posts(f)[0].body as { server: { block_device_mapping_v2: Array<{ volume_type: string }> } }).server.block_device_mapping_v2[0].volume_type).toBe('ceph-ssd');
  });

  it('an unknown type, a Cinder that is down, a Nova below 2.67: coded, and nothing is POSTed', async () => {
    const a = cloud();
    await expect(run(a, 'ceph-nvme')).rejects.toMatchObject({ code: 'NW_VOLUME_TYPE', message: expect.stringContaining("no volume type 'ceph-nvme'; use one of: ceph-ssd") });
    const b = cloud({ cinderDown: true });
    await expect(run(b)).rejects.toMatchObject({ code: 'NW_CINDER_UNAVAILABLE', message: expect.stringContaining('Cinder at http://cinder.test/v3/admin is not answering') });
    const c = cloud();
    await expect(run(c, 'ceph-ssd', '2.66')).rejects.toMatchObject({ code: 'NW_MICROVERSION' });
    for (const f of [a, b, c]) expect(posts(f)).toEqual([]);
  });

  it('ERROR: the server is deleted, its boot volume goes with it, and the error says nothing is left', async () => {
    const f = cloud({ endState: 'ERROR' });
    await expect(run(f)).rejects.toMatchObject({
      code: 'NW_BOOT_FAILED',
      message: expect.stringMatching(/went to ERROR: Build of instance aborted.*deleted the server and its boot volume bbbbbbbb-.*nothing is left/),
    });
    expect(f.calls.some((c) => c.method === 'DELETE' && c.url.pathname === `/v2.1/servers/${SID}`)).toBe(true);
  });
});

describe('the Cinder endpoint', () => {
  it('block_storage_endpoint_override wins; admin_token without it is NW_CONFIG saying what to set', async () => {
    const f = cloud();
    const session = await ComputeSession.open(adminTokenConfig(), { fetch: f.fetch });
    expect(blockStorageEndpoint(adminTokenConfig({ blockStorageEndpointOverride: 'http://cinder.test/v3/admin/' }), session)).toBe('http://cinder.test/v3/admin');
    expect(() => blockStorageEndpoint(adminTokenConfig(), session)).toThrow(/set block_storage_endpoint_override/);
  });
});
