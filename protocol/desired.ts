// The desired state of one worker, as the controller signs it and the agent converges to it.
import { Type, type Static } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';
import { Errors } from '@sinclair/typebox/errors';
import { NwError } from '../host/errors.js';

// Every signed string that reaches a file or argv has a pattern: no newline, NUL, space, quote,
// `%` (systemd specifiers), `,`/`=` (rkt --volume/--mount options) or leading `-` (an option).
// A newline in `monHost` would otherwise add lines to the ceph.conf the agent writes.
type Doc = { description?: string; default?: unknown };
/** Absolute path without `.`/`..` segments, in a charset safe in RKT_RUN_ARGS and unit files. */
const AbsPath = (o: Doc = {}) => Type.String({ pattern: '^(?!.*/\\.\\.?(?:/|$))/[A-Za-z0-9_.@+~/-]*$', maxLength: 4096, ...o });
const Name = (o: Doc = {}) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128, ...o });
const NodeName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 253 });
const Sha256 = (o: Doc = {}) => Type.String({ pattern: '^[0-9a-f]{64}$', ...o });
const Version = (o: Doc = {}) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.+~-]*$', maxLength: 128, ...o });
const PackageName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9+._-]*$', maxLength: 128 });
const UnitName = (o: Doc = {}) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@:-]*\\.service$', maxLength: 255, ...o });
const Base64 = (o: Doc = {}) => Type.String({ pattern: '^[A-Za-z0-9+/]+={0,2}$', maxLength: 256, ...o });
/** A mon address as ceph.conf and `-m` take it: `10.0.0.1:6789`, `[v2:10.0.0.1:3300,v1:10.0.0.1:6789]`, `[::1]:6789`, a host name. */
const MonAddr = Type.String({ pattern: '^[A-Za-z0-9\\[][A-Za-z0-9_.:,/\\[\\]-]*$', minLength: 1, maxLength: 256 });
/** File content (keyring, ceph.conf): text lines, no NUL or other control characters. */
const TextFile = (maxLength: number, o: Doc = {}) => Type.String({ pattern: '^[\\t\\n\\x20-\\x7E\\u00A0-\\uFFFF]*$', maxLength, ...o });
/** RFC 3339 UTC, e.g. 2026-12-01T00:00:00Z (checked to be a real instant in parseDesiredState). */
const UtcTimestamp = (o: Doc = {}) => Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,3})?Z$', ...o });

export const BindMountSchema = Type.Object(
  {
    name: Name({ description: 'rkt volume name (`--volume NAME,…` / `--mount volume=NAME,…`).' }),
    source: AbsPath({ description: 'Path on the host.' }),
    target: AbsPath({ description: 'Path inside the kubelet\'s rkt container.' }),
    readOnly: Type.Optional(Type.Boolean({ description: 'Adds `readOnly=true` to the volume.' })),
  },
  { additionalProperties: false, description: 'One RKT_RUN_ARGS `--volume`/`--mount` pair in the kubelet unit.' },
);

export const CephSchema = Type.Object(
  {
    fsid: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'The cluster fsid (a UUID).' }),
    monHost: Type.Array(MonAddr, {
      minItems: 1,
      maxItems: 16,
      description: 'Monitor addresses as ceph.conf and `-m` take them: `10.0.0.1:6789`, `[v2:10.0.0.1:3300,v1:10.0.0.1:6789]`, `[::1]:6789`, a host name.',
    }),
    clientId: Name({ description: 'The Ceph client id (`k8s` → `client.k8s`, keyring /etc/ceph/ceph.client.k8s.keyring).' }),
    keyring: Type.String({
      pattern: '^[\\t\\n\\x20-\\x7E]+$',
      maxLength: 8192,
      description: 'Full keyring file content (`[client.<id>]` `key = …`); never logged, redacted in plans.',
    }),
    conf: Type.Optional(TextFile(65536, { description: 'Full ceph.conf content. Default: a minimal one (fsid + mon host, no run dir).' })),
  },
  { additionalProperties: false, description: 'The Ceph client keyring and ceph.conf the agent writes under /etc/ceph.' },
);

export const UnitPolicySchema = Type.Object(
  {
    name: Type.Optional(UnitName({ default: 'kubelet.service', description: 'The kubelet\'s systemd unit.' })),
    path: Type.Optional(AbsPath({ description: 'The unit file to edit. Default: /etc/systemd/system/<name>.' })),
    bindMounts: Type.Array(BindMountSchema, { maxItems: 32, description: 'Bind mounts the kubelet unit\'s RKT_RUN_ARGS must carry.' }),
  },
  { additionalProperties: false, description: 'The kubelet unit policy (edited losslessly, read back through `systemctl show`).' },
);

export const BinaryArtifactSchema = Type.Object(
  {
    kind: Type.Literal('binary', { description: 'A kubelet binary on the host.' }),
    version: Version({ description: 'The version operators see (e.g. v1.10.4-nw.1).' }),
    sha256: Sha256({ description: 'sha256 of the file (hex): nothing else is installed.' }),
    size: Type.Integer({ minimum: 1, description: 'Size in bytes: a longer download is refused.' }),
    url: Type.String({
      pattern: '^(?:(?:https?|file)://|/)[\\x21-\\x7E]*$',
      maxLength: 4096,
      description: 'http(s):// URL, file:// URL or an absolute path on the worker (query strings are redacted in logs and status).',
    }),
    installPath: Type.Optional(AbsPath({ default: '/usr/local/bin/kubelet', description: 'Where the binary is installed (the previous one is kept for rollback).' })),
    signature: Type.Optional(Base64({ description: 'Optional detached ed25519 signature (base64) by the bundle key, domain `nodewright.artifact/v1` (`nodewright artifact sign`).' })),
  },
  { additionalProperties: false, description: 'A kubelet binary, health-gated, rolled back on failure.' },
);

export const ImageArtifactSchema = Type.Object(
  {
    kind: Type.Literal('image', { description: 'A kubelet image for kubelet-wrapper (rkt hosts).' }),
    version: Version({ description: 'The version operators see.' }),
    tag: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.+-]*$', maxLength: 128, description: 'KUBELET_IMAGE_TAG for kubelet-wrapper (a docker tag: never a `:`).' }),
    url: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$', maxLength: 1024, description: 'KUBELET_IMAGE_URL (e.g. docker://quay.io/coreos/hyperkube).' })),
  },
  { additionalProperties: false, description: 'A kubelet image tag set in the unit\'s environment, health-gated, rolled back on failure.' },
);

export const ProbesPolicySchema = Type.Object(
  {
    rbd: Type.Optional(
      Type.Object(
        { pool: Name({ description: 'Pool the probe creates, inspects and removes a small image in.' }) },
        { additionalProperties: false, description: 'rbd probe with the client keyring.' },
      ),
    ),
    quota: Type.Optional(
      Type.Object(
        {
          path: AbsPath({ description: 'CephFS directory the probe works in (its files are named after the node, so workers never touch each other\'s).' }),
          mountDir: Type.Optional(AbsPath({ description: 'Where ceph-fuse mounts the file system. Default: a fresh temporary directory.' })),
        },
        { additionalProperties: false, description: 'ceph-fuse quota probe: sets a quota, writes past it, expects EDQUOT, and a second write to fail.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Ceph probes run after the steps (a health check; `/readyz` needs them to pass).' },
);

export const DesiredStateSchema = Type.Object(
  {
    schema: Type.Literal(1, { description: 'Format version.' }),
    generation: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Monotonic serial chosen by the controller: lower than held → NW_STALE; equal with other content → NW_GENERATION_CONFLICT.',
    }),
    nodeGroup: Type.Optional(Name({ description: 'Target binding: only an agent whose agent.yaml names this node group accepts the bundle.' })),
    nodes: Type.Optional(
      Type.Array(NodeName, { minItems: 1, maxItems: 10_000, uniqueItems: true, description: 'Target binding: only these nodes (agent.yaml `node`) accept the bundle.' }),
    ),
    notAfter: Type.Optional(UtcTimestamp({ description: 'Expiry (RFC 3339 UTC): refused after this instant by the worker\'s clock (NW_EXPIRED).' })),
    runtime: Type.Optional(
      Type.Union([Type.Literal('rkt'), Type.Literal('native')], {
        default: 'rkt',
        description: 'rkt: kubelet runs in rkt via kubelet-wrapper (ceph client in the image); native: kubelet on the host (packages installed).',
      }),
    ),
    packages: Type.Optional(
      Type.Object(
        {
          policy: Type.Union([Type.Literal('auto'), Type.Literal('skip')], { description: 'auto: install what is missing; skip: leave packages alone.' }),
          names: Type.Optional(Type.Array(PackageName, { maxItems: 16, default: ['ceph-common'], description: 'Packages a native worker needs.' })),
        },
        { additionalProperties: false, description: 'Packages (native runtime only), installed in a transient systemd-run unit.' },
      ),
    ),
    ceph: Type.Optional(CephSchema),
    unit: Type.Optional(UnitPolicySchema),
    kubelet: Type.Optional(Type.Union([BinaryArtifactSchema, ImageArtifactSchema], { description: 'The kubelet artifact: a binary or an image tag.' })),
    probes: Type.Optional(ProbesPolicySchema),
  },
  { additionalProperties: false, description: 'The desired state of one worker, as the controller signs it (ed25519, canonical JSON) and the agent converges to it.' },
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
