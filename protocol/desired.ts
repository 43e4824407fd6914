// The desired state of one worker, as the controller signs it and the agent converges to it.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../host/errors.js';

const AbsPath = Type.String({ pattern: '^/[^\\0]*$', maxLength: 4096 });
const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const BindMountSchema = Type.Object(
  { name: Name, source: AbsPath, target: AbsPath, readOnly: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const CephSchema = Type.Object(
  {
    fsid: Type.String({ pattern: '^[0-9a-fA-F-]{36}$' }),
    monHost: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 16 }),
    clientId: Name,
    /** Full keyring file content ([client.<id>] key = …). */
    keyring: Type.String({ minLength: 1, maxLength: 8192 }),
    /** Full ceph.conf content; when absent a minimal one (fsid + mon host) is written. */
    conf: Type.Optional(Type.String({ maxLength: 65536 })),
  },
  { additionalProperties: false },
);

export const UnitPolicySchema = Type.Object(
  {
    name: Type.Optional(Name),
    path: Type.Optional(AbsPath),
    bindMounts: Type.Array(BindMountSchema, { maxItems: 32 }),
  },
  { additionalProperties: false },
);

export const BinaryArtifactSchema = Type.Object(
  {
    kind: Type.Literal('binary'),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    sha256: Sha256,
    size: Type.Integer({ minimum: 1 }),
    /** http(s):// URL, file:// URL or an absolute path on the worker. */
    url: Type.String({ minLength: 1, maxLength: 4096 }),
    installPath: Type.Optional(AbsPath),
    /** Optional detached ed25519 signature (base64) of the artifact bytes, by the bundle key. */
    signature: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const ImageArtifactSchema = Type.Object(
  {
    kind: Type.Literal('image'),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    /** KUBELET_IMAGE_TAG for kubelet-wrapper. */
    tag: Type.String({ minLength: 1, maxLength: 256 }),
    /** KUBELET_IMAGE_URL, optional. */
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const ProbesPolicySchema = Type.Object(
  {
    rbd: Type.Optional(Type.Object({ pool: Name }, { additionalProperties: false })),
    quota: Type.Optional(
      Type.Object({ path: AbsPath, mountDir: Type.Optional(AbsPath) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const DesiredStateSchema = Type.Object(
  {
    schema: Type.Literal(1),
    /** Monotonic serial chosen by the controller. */
    generation: Type.Integer({ minimum: 1 }),
    nodeGroup: Type.Optional(Name),
    /** rkt: kubelet runs in rkt via kubelet-wrapper (ceph client in the image); native: kubelet on the host. */
    runtime: Type.Optional(Type.Union([Type.Literal('rkt'), Type.Literal('native')])),
    packages: Type.Optional(
      Type.Object(
        {
          policy: Type.Union([Type.Literal('auto'), Type.Literal('skip')]),
          names: Type.Optional(Type.Array(Name, { maxItems: 16 })),
        },
        { additionalProperties: false },
      ),
    ),
    ceph: Type.Optional(CephSchema),
    unit: Type.Optional(UnitPolicySchema),
    kubelet: Type.Optional(Type.Union([BinaryArtifactSchema, ImageArtifactSchema])),
    probes: Type.Optional(ProbesPolicySchema),
  },
  { additionalProperties: false },
);

export type BindMount = Static<typeof BindMountSchema>;
export type CephDesired = Static<typeof CephSchema>;
export type UnitPolicy = Static<typeof UnitPolicySchema>;
export type BinaryArtifact = Static<typeof BinaryArtifactSchema>;
export type ImageArtifact = Static<typeof ImageArtifactSchema>;
export type KubeletArtifact = BinaryArtifact | ImageArtifact;
export type ProbesPolicy = Static<typeof ProbesPolicySchema>;
export type DesiredState = Static<typeof DesiredStateSchema>;

export const DEFAULT_UNIT = 'kubelet.service';
export const DEFAULT_KUBELET_PATH = '/usr/local/bin/kubelet';

export const keyringPath = (c: Pick<CephDesired, 'clientId'>) => `/etc/ceph/ceph.client.${c.clientId}.keyring`;
export const CEPH_CONF_PATH = '/etc/ceph/ceph.conf';
export const unitName = (d: DesiredState) => d.unit?.name ?? DEFAULT_UNIT;
export const unitPath = (d: DesiredState) => d.unit?.path ?? `/etc/systemd/system/${unitName(d)}`;
export const kubeletInstallPath = (a: BinaryArtifact) => a.installPath ?? DEFAULT_KUBELET_PATH;

/** Schema errors as one line each: `/ceph/fsid: must match pattern …`. */
export function schemaErrors(schema: Parameters<typeof Value.Errors>[0], value: unknown, max = 5): string[] {
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    out.push(`${e.path || '/'}: ${e.message}`);
    if (out.length >= max) break;
  }
  return out;
}

/** Validate untrusted input as a desired state or throw NW_BUNDLE naming the fields. */
export function parseDesiredState(value: unknown): DesiredState {
  if (Value.Check(DesiredStateSchema, value)) return value;
  const errs = schemaErrors(DesiredStateSchema, value);
  throw new NwError('NW_BUNDLE', `desired state is invalid: ${errs.join('; ')}; fix these fields and sign it again`, {
    errors: errs,
  });
}
