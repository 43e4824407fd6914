// Kubernetes objects for Ceph, as plain data (validated in tests against the API schemas):
// the key Secret, the ceph-rbd and cephfs StorageClasses, and a quota'd CephFS PV + PVC.
import { stringify } from 'yaml';

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };

export interface ManifestSpec {
  monitors: string[];
  clientId: string;
  /** the cephx key of the client (goes base64-encoded into the Secret only) */
  key: string;
  pool: string;
  secretName: string;
  /** one Secret per namespace: the provisioner's (adminSecretNamespace) and the workloads' */
  secretNamespaces: string[];
  adminSecretNamespace: string;
  defaultClass: boolean;
  rbdClassName: string;
  cephfsClassName: string;
}

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export function secretManifest(name: string, namespace: string, key: string): Manifest {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/rbd', data: { key: Buffer.from(key, 'utf8').toString('base64') } };
}

export function rbdStorageClass(s: ManifestSpec): Manifest {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: s.rbdClassName, ...(s.defaultClass ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    provisioner: 'kubernetes.io/rbd',
    parameters: {
      monitors: s.monitors.join(','),
      adminId: s.clientId,
      adminSecretName: s.secretName,
      adminSecretNamespace: s.adminSecretNamespace,
      pool: s.pool,
      userId: s.clientId,
      userSecretName: s.secretName,
      imageFormat: '2',
      imageFeatures: 'layering',
    },
  };
}

export function cephfsStorageClass(s: ManifestSpec): Manifest {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: s.cephfsClassName },
    provisioner: 'ceph.com/cephfs',
    parameters: { monitors: s.monitors.join(','), adminId: s.clientId, adminSecretName: s.secretName, adminSecretNamespace: s.adminSecretNamespace },
  };
}

export function storageManifests(s: ManifestSpec): Manifest[] {
  return [...s.secretNamespaces.map((ns) => secretManifest(s.secretName, ns, s.key)), rbdStorageClass(s), cephfsStorageClass(s)];
}

export interface CephfsVolumeSpec {
  name: string;
  namespace: string;
  size: string; // Kubernetes quantity, as given
  path: string;
  monitors: string[];
  clientId: string;
  secretName: string;
  secretNamespace?: string;
}

/** A static PV on the quota'd directory and a PVC bound to it (no StorageClass, so no default class steals it). */
export function cephfsVolumeManifests(v: CephfsVolumeSpec): Manifest[] {
  const pv: Manifest = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: v.name },
    spec: {
      capacity: { storage: v.size },
      accessModes: ['ReadWriteMany'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: '',
      claimRef: { namespace: v.namespace, name: v.name },
      cephfs: { monitors: v.monitors, path: v.path, user: v.clientId, secretRef: { name: v.secretName, ...(v.secretNamespace ? { namespace: v.secretNamespace } : {}) }, readOnly: false },
    },
  };
  const pvc: Manifest = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: v.name, namespace: v.namespace },
    spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: v.name, resources: { requests: { storage: v.size } } },
  };
  return [pv, pvc];
}

export const toYaml = (docs: readonly Manifest[]) => docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
