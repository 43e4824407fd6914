// The desired state of one worker, as the controller signs it and the agent converges to it.
import { Type, type Static } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';
import { Errors } from '@sinclair/typebox/errors';
import { NwError } from '../host/errors.js';

// Every signed string that reaches a file or argv has a pattern: no newline, NUL, space, quote,
// `%` (systemd specifiers), `,`/`=` (rkt --volume/--mount options) or leading `-` (an option).
// A newline in `monHost` would otherwise add lines to the ceph.conf the agent writes.
/** Absolute path without `.`/`..` segments, in a charset safe in RKT_RUN_ARGS and unit files. */
const AbsPath = Type.String({ pattern: '^(?!.*/\\.\\.?(?:/|$))/[A-Za-z0-9_.@+~/-]*$', maxLength: 4096 });
const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128 });
const NodeName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 253 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Version = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.+~-]*$', maxLength: 128 });
const PackageName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9+._-]*$', maxLength: 128 });
const UnitName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@:-]*\\.service$', maxLength: 255 });
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]+={0,2}$', maxLength: 256 });
/** A mon address as ceph.conf and `-m` take it: `10.0.0.1:6789`, `[v2:10.0.0.1:3300,v1:10.0.0.1:6789]`, `[::1]:6789`, a host name. */
const MonAddr = Type.String({ pattern: '^[A-Za-z0-9\\[][A-Za-z0-9_.:,/\\[\\]-]*$', minLength: 1, maxLength: 256 });
/** File content (keyring, ceph.conf): text lines, no NUL or other control characters. */
const TextFile = (maxLength: number) => Type.String({ pattern: '^[\\t\\n\\x20-\\x7E\\u00A0-\\uFFFF]*$', maxLength });
/** RFC 3339 UTC, e.g. 2026-12-01T00:00:00Z (checked to be a real instant in parseDesiredState). */
const UtcTimestamp = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,3})?Z$' });

export const BindMountSchema = Type.Object(
  { name: Name, source: AbsPath, target: AbsPath, readOnly: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const CephSchema = Type.Object(
  {
    fsid: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
    monHost: Type.Array(MonAddr, { minItems: 1, maxItems: 16 }),
    clientId: Name,
    /** Full keyring file content ([client.<id>] key = …). */
    keyring: Type.String({ pattern: '^[\\t\\n\\x20-\\x7E]+$', maxLength: 8192 }),
    /** Full ceph.conf content; when absent a minimal one (fsid + mon host) is written. */
    conf: Type.Optional(TextFile(65536)),
  },
  { additionalProperties: false },
);

export const UnitPolicySchema = Type.Object(
  {
    name: Type.Optional(UnitName),
    path: Type.Optional(AbsPath),
    bindMounts: Type.Array(BindMountSchema, { maxItems: 32 }),
  },
  { additionalProperties: false },
);

export const BinaryArtifactSchema = Type.Object(
  {
    kind: Type.Literal('binary'),
    version: Version,
    sha256: Sha256,
    size: Type.Integer({ minimum: 1 }),
    /** http(s):// URL, file:// URL or an absolute path on the worker. */
    url: Type.String({ pattern: '^(?:(?:https?|file)://|/)[\\x21-\\x7E]*$', maxLength: 4096 }),
    installPath: Type.Optional(AbsPath),
    /** Optional detached ed25519 signature (base64) of the artifact bytes, by the bundle key. */
    signature: Type.Optional(Base64),
  },
  { additionalProperties: false },
);

export const ImageArtifactSchema = Type.Object(
  {
    kind: Type.Literal('image'),
    version: Version,
    /** KUBELET_IMAGE_TAG for kubelet-wrapper (a docker tag: never a ':'). */
    tag: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.+-]*$', maxLength: 128 }),
    /** KUBELET_IMAGE_URL, optional (e.g. docker://quay.io/coreos/hyperkube). */
    url: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$', maxLength: 1024 })),
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
    generation: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    /** Target binding: only an agent whose agent.yaml names this node group accepts the bundle. */
    nodeGroup: Type.Optional(Name),
    /** Target binding: only these nodes (agent.yaml `node`) accept the bundle. */
    nodes: Type.Optional(Type.Array(NodeName, { minItems: 1, maxItems: 10_000, uniqueItems: true })),
    /** Expiry: refused after this instant (host clock). */
    notAfter: Type.Optional(UtcTimestamp),
    /** rkt: kubelet runs in rkt via kubelet-wrapper (ceph client in the image); native: kubelet on the host. */
    runtime: Type.Optional(Type.Union([Type.Literal('rkt'), Type.Literal('native')])),
    packages: Type.Optional(
      Type.Object(
        {
          policy: Type.Union([Type.Literal('auto'), Type.Literal('skip')]),
          names: Type.Optional(Type.Array(PackageName, { maxItems: 16 })),
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
export function schemaErrors(schema: Parameters<typeof Errors>[0], value: unknown, max = 5): string[] {
  const out: string[] = [];
  for (const e of Errors(schema, value)) {
    out.push(`${e.path || '/'}: ${e.message}`);
    if (out.length >= max) break;
  }
  return out;
}

/** The pattern lets 2026-02-30T00:00:00Z through, which Date rolls over to March: refuse it. */
function instantErrors(d: DesiredState): string[] {
  if (d.notAfter === undefined) return [];
  const t = Date.parse(d.notAfter);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 19) === d.notAfter.slice(0, 19) ? [] : [`/notAfter: ${d.notAfter} is not a real UTC instant`];
}

/** Validate untrusted input as a desired state or throw NW_BUNDLE naming the fields. */
export function parseDesiredState(value: unknown): DesiredState {
  const valid = Check(DesiredStateSchema, value);
  const errs = valid ? instantErrors(value) : schemaErrors(DesiredStateSchema, value);
  if (valid && !errs.length) return value;
  throw new NwError('NW_BUNDLE', `desired state is invalid: ${errs.join('; ')}; fix these fields and sign it again`, {
    errors: errs,
  });
}
