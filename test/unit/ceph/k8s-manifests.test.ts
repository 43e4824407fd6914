import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateManifest } from './k8s-validate.js';
import { DEFAULT_CLASS_ANNOTATION, type Manifest, type ManifestSpec, cephfsVolumeManifests, storageManifests, toYaml } from '../../../ceph/k8s-manifests.js';

const KEY = 'AQCKiwdrw0AUIhAAXPcknl/bEvTezQ4JkdFEDA==';
const spec: ManifestSpec = {
  monitors: ['10.32.24.11:6789', '10.32.24.12:6789'],
  clientId: 'k8s',
  key: KEY,
  pool: 'k8s',
  secretName: 'ceph-k8s-secret',
  secretNamespaces: ['kube-system', 'default'],
  adminSecretNamespace: 'kube-system',
  defaultClass: true,
  rbdClassName: 'ceph-rbd',
  cephfsClassName: 'cephfs',
};

const reparse = (y: string) => parseAllDocuments(y).map((d) => d.toJSON() as Manifest);

describe('k8s manifests', () => {
  it('Secrets, ceph-rbd (default) and cephfs StorageClasses validate against the API schemas', () => {
    const docs = reparse(toYaml(storageManifests(spec)));
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`)).toEqual([
      'Secret/kube-system/ceph-k8s-secret',
      'Secret/default/ceph-k8s-secret',
      'StorageClass//ceph-rbd',
      'StorageClass//cephfs',
    ]);
    for (const d of docs) validateManifest(d);
  });

  it("the Secret holds base64 of the key text, like the seed's `awk … | base64`", () => {
    const [s] = storageManifests(spec);
    expect(s.type).toBe('kubernetes.io/rbd');
    expect((s.data as { key: string }).key).toBe(Buffer.from(KEY).toString('base64'));
  });

  it('marks ceph-rbd default only when asked', () => {
    const rbd = (d: boolean) => storageManifests({ ...spec, defaultClass: d }).find((m) => m.metadata.name === 'ceph-rbd')!;
    expect(rbd(true).metadata.annotations).toEqual({ [DEFAULT_CLASS_ANNOTATION]: 'true' });
    expect(rbd(false).metadata.annotations).toBeUndefined();
    expect(rbd(true).parameters).toMatchObject({ monitors: '10.32.24.11:6789,10.32.24.12:6789', pool: 'k8s', userId: 'k8s', adminSecretNamespace: 'kube-system' });
  });

  it('a quota volume is a static PV + PVC bound by name, both valid', () => {
    const docs = reparse(toYaml(cephfsVolumeManifests({ name: 'vol1', namespace: 'test', size: '100Mi', path: '/kubernetes/vol1', monitors: spec.monitors, clientId: 'k8s', secretName: 'ceph-k8s-secret' })));
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolume', 'PersistentVolumeClaim']);
    for (const d of docs) validateManifest(d);
    expect(docs[0].spec).toMatchObject({ capacity: { storage: '100Mi' }, cephfs: { path: '/kubernetes/vol1', user: 'k8s', secretRef: { name: 'ceph-k8s-secret' } } });
    expect(docs[1].spec).toMatchObject({ volumeName: 'vol1', storageClassName: '' });
  });

  it('the schema check does catch a broken object', () => {
    const bad = { ...storageManifests(spec)[2], provisioner: 42 };
    expect(() => validateManifest(bad)).toThrow();
  });
});
