// Validate generated objects against the Kubernetes API schemas offline (kubernetes-models);
// `kubectl create --dry-run=client` cannot serve here: it needs a reachable API server.
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';

const kinds: Record<string, new (o: never) => { validate(): void }> = {
  'v1/Secret': Secret as never,
  'v1/PersistentVolume': PersistentVolume as never,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as never,
  'storage.k8s.io/v1/StorageClass': StorageClass as never,
};

export function validateManifest(m: Record<string, unknown>): void {
  const K = kinds[`${m.apiVersion}/${m.kind}`];
  if (!K) throw new Error(`no schema for ${m.apiVersion}/${m.kind}`);
  new K(m as never).validate();
}
