import { describe, expect, it } from 'vitest';
import { type ClusterState, type PrepareSpec, MONITOR_CAPS, describeAction, describeUnchanged, desiredCaps, planPrepare, sameCaps } from '../../../ceph/prepare.js';

const spec: PrepareSpec = { rbdPool: 'k8s', fsName: 'cephfs', dataPool: 'cephfs_data', metadataPool: 'cephfs_metadata', clientId: 'k8s', pgNum: 8, keyringOut: '/etc/nodewright/ceph.client.k8s.keyring' };
const KEY = 'AQCKiwdrw0AUIhAAXPcknl/bEvTezQ4JkdFEDA==';
const fresh: ClusterState = { pools: [], rbdApplications: [], filesystems: [], client: null, keyringFile: null };
const converged: ClusterState = {
  pools: ['k8s', 'cephfs_data', 'cephfs_metadata'],
  rbdApplications: ['rbd'],
  filesystems: [{ name: 'cephfs', metadata_pool: 'cephfs_metadata', data_pools: ['cephfs_data'] }],
  client: { key: KEY, caps: { mds: 'allow rwp', mon: 'allow rwx', osd: 'allow rwx pool=k8s, allow rw pool=cephfs_data' } },
  keyringFile: { key: KEY, mode: 0o100600 },
};

describe('ceph prepare plan', () => {
  it("uses the seed's caps", () => {
    expect(desiredCaps(spec)).toEqual({ mon: 'allow rwx', osd: 'allow rwx pool=k8s, allow rw pool=cephfs_data', mds: 'allow rwp' });
  });

  it('creates everything on a fresh cluster, in dependency order', () => {
    const plan = planPrepare(fresh, spec);
    expect(plan.map((a) => a.kind)).toEqual(['create-pool', 'create-pool', 'create-pool', 'enable-rbd', 'create-fs', 'create-client', 'write-keyring']);
    expect(plan.map(describeAction)).toContain("create client.k8s with caps mds 'allow rwp' mon 'allow rwx' osd 'allow rwx pool=k8s, allow rw pool=cephfs_data'");
  });

  it('plans nothing when converged', () => {
    expect(planPrepare(converged, spec)).toEqual([]);
    expect(planPrepare({ ...converged, keyringFile: null }, { ...spec, keyringOut: undefined })).toEqual([]);
  });

  it("updates an existing user's caps with auth caps (get-or-create would fail)", () => {
    const st = { ...converged, client: { key: KEY, caps: { mon: 'allow r', osd: 'allow rwx pool=k8s' } } };
    const plan = planPrepare(st, spec);
    expect(plan).toEqual([{ kind: 'update-caps', entity: 'client.k8s', from: st.client.caps, to: desiredCaps(spec) }]);
    expect(describeAction(plan[0])).toBe("update caps of client.k8s: mon 'allow r' osd 'allow rwx pool=k8s' -> mds 'allow rwp' mon 'allow rwx' osd 'allow rwx pool=k8s, allow rw pool=cephfs_data'");
  });

  it('rewrites the keyring when the key differs, the file is missing, or its mode is loose', () => {
    expect(planPrepare({ ...converged, keyringFile: { key: 'other', mode: 0o100600 } }, spec)).toMatchObject([{ kind: 'write-keyring', why: 'key differs' }]);
    expect(planPrepare({ ...converged, keyringFile: null }, spec)).toMatchObject([{ kind: 'write-keyring', why: 'file missing' }]);
    expect(planPrepare({ ...converged, keyringFile: { key: KEY, mode: 0o100644 } }, spec)).toMatchObject([{ kind: 'write-keyring', why: 'mode 644 is not 600' }]);
  });

  it('refuses a filesystem that uses other pools', () => {
    const st = { ...converged, filesystems: [{ name: 'cephfs', metadata_pool: 'meta2', data_pools: ['data2'] }] };
    expect(() => planPrepare(st, spec)).toThrow(/--metadata-pool meta2 --data-pool data2/);
    const taken = { ...converged, filesystems: [{ name: 'other', metadata_pool: 'cephfs_metadata', data_pools: ['cephfs_data'] }] };
    expect(() => planPrepare(taken, spec)).toThrow(/belong to filesystem other/);
  });

  it('compares caps ignoring spacing', () => {
    expect(sameCaps({ osd: 'allow rwx pool=k8s,allow rw  pool=cephfs_data' }, { osd: 'allow rwx pool=k8s, allow rw pool=cephfs_data' })).toBe(true);
    expect(sameCaps({ osd: 'allow rwx pool=k8s' }, { osd: 'allow rwx pool=k8s', mgr: 'allow r' })).toBe(false);
  });

  it("creates the controller's read-only monitor client and exports its keyring, then is quiet", () => {
    const withMonitor: PrepareSpec = { ...spec, monitor: { clientId: 'nodewright-controller', keyringOut: '/etc/nodewright/monitor.keyring' } };
    expect(planPrepare(converged, withMonitor)).toEqual([
      { kind: 'create-client', entity: 'client.nodewright-controller', caps: { mon: 'allow r' } },
      { kind: 'write-keyring', entity: 'client.nodewright-controller', path: '/etc/nodewright/monitor.keyring', why: 'new user' },
    ]);
    const done: ClusterState = { ...converged, monitor: { client: { key: KEY, caps: MONITOR_CAPS }, keyringFile: { key: KEY, mode: 0o100600 } } };
    expect(planPrepare(done, withMonitor)).toEqual([]);
    expect(describeUnchanged(withMonitor)).toMatch(/client\.nodewright-controller and its caps, keyring \/etc\/nodewright\/monitor.keyring are already as wanted$/);
    const wider: ClusterState = { ...done, monitor: { ...done.monitor!, client: { key: KEY, caps: { mon: 'allow rwx' } } } };
    expect(planPrepare(wider, withMonitor)).toEqual([{ kind: 'update-caps', entity: 'client.nodewright-controller', from: { mon: 'allow rwx' }, to: { mon: 'allow r' } }]);
  });
});
