// The rollout's desired YAML → the desired template every node's signed state is bound from
// (bind.ts adds schema, generation, nodeGroup, nodes). It has the fields of the signed desired
// state except schema and generation, with `ceph.keyringFile` (a path the controller reads;
// relative to the YAML's directory) instead of `ceph.keyring`, and `kubelet: {kind: binary,
// version: V}` resolved from the artifact store to sha256/size/url/signature. `kind: image`
// passes through as written.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { NwError, isNwError } from '../../host/errors.js';
import { BinaryArtifactSchema, CephSchema, DesiredStateSchema, ImageArtifactSchema, parseDesiredState } from '../../protocol/desired.js';
import { artifactUrlPath } from '../artifacts/store.js';
import type { ArtifactRecord } from '../store/store.js';
import type { DesiredTemplate } from './bind.js';

/**
 * What the rollout's desired YAML holds, for the reference docs; resolveRolloutDesired checks it
 * (the resolved template against DesiredStateSchema).
 */
export const RolloutDesiredSchema = Type.Object(
  {
    ...Type.Omit(DesiredStateSchema, ['schema', 'generation', 'nodeGroup', 'nodes']).properties, // ceph and kubelet replaced below, in place
    ceph: Type.Optional(
      Type.Object(
        {
          ...Type.Omit(CephSchema, ['keyring']).properties,
          keyringFile: Type.String({
            minLength: 1,
            description: 'Path of the client keyring file, relative to the YAML\'s directory; `rollout start` reads it on the operator\'s machine and sends its content (secrets stay out of rollout files).',
          }),
        },
        { additionalProperties: false, description: CephSchema.description },
      ),
    ),
    kubelet: Type.Optional(
      Type.Union(
        [
          Type.Object(
            {
              kind: BinaryArtifactSchema.properties.kind,
              version: Type.String({ minLength: 1, description: 'A version added with `nodewright artifact add FILE --kind kubelet-binary --version V` (NW_NOT_FOUND otherwise); sha256, size, url and signature come from the artifact store.' }),
              installPath: BinaryArtifactSchema.properties.installPath,
            },
            { additionalProperties: false, description: 'A kubelet binary from the controller\'s artifact store.' },
          ),
          ImageArtifactSchema,
        ],
        { description: 'The kubelet: a binary by version from the artifact store, or an image tag (passed through as written).' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'The desired-state YAML `nodewright rollout start --desired FILE` takes: the signed desired state\'s fields without `schema` and `generation` (refused: the controller assigns a generation per node) and without `nodeGroup`/`nodes` (the controller binds each node\'s bundle to its group and name, replacing any written here).',
  },
);

export interface DesiredSources {
  /** The stored artifacts (a binary kubelet names one by version). */
  artifacts: readonly ArtifactRecord[];
  /** https://HOST:PORT agents download artifacts from (the controller's API). */
  artifactBaseUrl: string;
  /** Directory relative paths are resolved against. */
  baseDir: string;
  readFile?(file: string): string;
  /**
   * 'inline' accepts `ceph.keyring` already read from keyringFile (the CLI read it on the
   * operator's machine and sent it over TLS); default 'file': only keyringFile is taken.
   */
  keyring?: 'file' | 'inline';
}

const usage = (where: string, msg: string): NwError => new NwError('NW_USAGE', `${where}: ${msg}`);

export function loadRolloutDesired(file: string, o: Omit<DesiredSources, 'baseDir'>): DesiredTemplate {
  let text: string;
  try {
    text = (o.readFile ?? ((f: string) => readFileSync(f, 'utf8')))(file);
  } catch (e) {
    throw usage(file, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the rollout's desired-state YAML`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw usage(file, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return resolveRolloutDesired(doc, { ...o, baseDir: path.dirname(path.resolve(file)) }, file);
}

export function resolveRolloutDesired(doc: unknown, o: DesiredSources, where = 'desired state'): DesiredTemplate {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw usage(where, 'must be a mapping with fields like ceph, unit, kubelet, probes');
  const { schema, generation, ...rest } = doc as Record<string, unknown>;
  if (schema !== undefined || generation !== undefined) {
    throw usage(where, 'drop schema and generation: the controller assigns the generation per node');
  }
  const out: DesiredTemplate = { ...rest };
  if (rest.ceph !== undefined) out.ceph = resolveCeph(rest.ceph, o, where);
  if (rest.kubelet !== undefined) out.kubelet = resolveKubelet(rest.kubelet, o, where);
  try {
    parseDesiredState({ ...out, schema: 1, generation: 1 });
  } catch (e) {
    if (isNwError(e) && e.code === 'NW_BUNDLE') throw usage(where, e.message.replace(/; fix these fields and sign it again$/, '; fix these fields'));
    throw e;
  }
  return out;
}

function resolveCeph(ceph: unknown, o: DesiredSources, where: string): Record<string, unknown> {
  if (ceph === null || typeof ceph !== 'object' || Array.isArray(ceph)) throw usage(where, 'ceph must be a mapping');
  const { keyringFile, keyring, ...rest } = ceph as Record<string, unknown>;
  if (o.keyring === 'inline' && keyringFile === undefined && typeof keyring === 'string') return { ...rest, keyring };
  if (keyring !== undefined) throw usage(where, 'ceph.keyring is not taken here: give ceph.keyringFile, the path of the keyring file (secrets stay out of rollout files)');
  if (typeof keyringFile !== 'string' || keyringFile === '') throw usage(where, 'ceph.keyringFile (the path of the client keyring) is missing');
  const file = path.resolve(o.baseDir, keyringFile);
  let text: string;
  try {
    text = (o.readFile ?? ((f: string) => readFileSync(f, 'utf8')))(file);
  } catch (e) {
    throw usage(where, `cannot read ceph.keyringFile ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { ...rest, keyring: text };
}

function resolveKubelet(kubelet: unknown, o: DesiredSources, where: string): unknown {
  if (kubelet === null || typeof kubelet !== 'object' || Array.isArray(kubelet)) throw usage(where, 'kubelet must be a mapping with kind binary or image');
  const k = kubelet as Record<string, unknown>;
  if (k.kind === 'image') return k;
  if (k.kind !== 'binary') throw usage(where, `kubelet.kind must be binary or image, not ${JSON.stringify(k.kind)}`);
  const { kind, version, installPath, ...extra } = k;
  if (Object.keys(extra).length > 0) {
    throw usage(where, `kubelet ${Object.keys(extra).join(', ')}: a binary kubelet names only version (and installPath); sha256, size, url and signature come from the artifact store`);
  }
  if (typeof version !== 'string' || version === '') throw usage(where, 'kubelet.version is missing');
  const a = o.artifacts.find((x) => x.kind === 'kubelet-binary' && x.version === version);
  if (!a) throw new NwError('NW_NOT_FOUND', `${where}: no kubelet-binary artifact ${version}; add it with \`nodewright artifact add FILE --kind kubelet-binary --version ${version}\``);
  return {
    kind, version, sha256: a.sha256, size: a.size, url: new URL(artifactUrlPath(a.sha256), o.artifactBaseUrl).toString(),
    signature: a.signature, ...(installPath === undefined ? {} : { installPath }),
  };
}
