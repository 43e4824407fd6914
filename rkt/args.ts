// RKT_RUN_ARGS (kubelet-wrapper) / RKT_OPTS (older wrapper): the value as systemd word-splits
// $VAR — tokens separated by whitespace, no quote processing. We understand
//   --volume NAME,kind=host,source=PATH[,readOnly=…][,recursive=…]   and --volume=NAME,…
//   --mount volume=NAME,target=PATH                                  and --mount=volume=…
// and keep every other token, and every separator, verbatim and in order.
import { NwError } from '../host/errors.js';

export interface BindMount {
  name: string;
  source: string;
  target: string;
  readOnly?: boolean;
}

interface Field {
  key: string; // '' for the volume name
  value: string;
  /** Not KEY=VALUE after the name (`=x`, `readOnly`): kept verbatim, never rewritten. */
  malformed?: string;
}

export interface VolumeArg {
  kind: 'volume';
  /** Index of the token holding the spec. */
  token: number;
  /** '--volume=' form (one token) or '--volume SPEC' (two tokens). */
  joined: boolean;
  name: string;
  fields: Field[];
}

export interface MountArg {
  kind: 'mount';
  token: number;
  joined: boolean;
  fields: Field[];
  volume: string;
  target: string;
}

export interface RktArgs {
  /** Alternating [separator, token, separator, token, …, separator]; separators may be ''. */
  parts: string[];
  volumes: VolumeArg[];
  mounts: MountArg[];
  /** A final --volume/--mount with no value after it (rkt would fail). */
  dangling?: string;
}

const WS = /[ \t\n\r]+/;

export function parseRktArgs(value: string): RktArgs {
  const parts = value.split(/([^ \t\n\r]+)/); // odd indexes are tokens
  const tokens = (i: number) => parts[2 * i + 1];
  const n = (parts.length - 1) / 2;
  const volumes: VolumeArg[] = [];
  const mounts: MountArg[] = [];
  let dangling: string | undefined;
  for (let i = 0; i < n; i++) {
    const t = tokens(i);
    if ((t === '--volume' || t === '--mount') && i === n - 1) dangling = t;
    for (const flag of ['--volume', '--mount'] as const) {
      let spec: string | undefined;
      let at = i;
      let joined = false;
      if (t === flag && i + 1 < n) {
        at = i + 1;
        spec = tokens(at);
      } else if (t.startsWith(flag + '=')) {
        spec = t.slice(flag.length + 1);
        joined = true;
      }
      if (spec === undefined) continue;
      const fields = splitFields(spec);
      if (flag === '--volume') volumes.push({ kind: 'volume', token: at, joined, name: fields[0]?.key === '' ? fields[0].value : '', fields });
      else mounts.push({ kind: 'mount', token: at, joined, fields, volume: get(fields, 'volume') ?? '', target: get(fields, 'target') ?? '' });
      if (!joined) i++;
    }
  }
  return { parts, volumes, mounts, ...(dangling ? { dangling } : {}) };
}

function splitFields(spec: string): Field[] {
  return spec.split(',').map((f, idx) => {
    const eq = f.indexOf('=');
    if (idx === 0 && eq < 0) return { key: '', value: f };
    if (eq <= 0) return { key: '', value: '', malformed: f };
    return { key: f.slice(0, eq), value: f.slice(eq + 1) };
  });
}

const get = (fields: Field[], key: string) => fields.find((f) => f.key === key)?.value;
const joinFields = (fields: Field[]) => fields.map((f) => f.malformed ?? (f.key === '' ? f.value : `${f.key}=${f.value}`)).join(',');

/** A spec we must rewrite has to be one we fully understand: refuse to guess around a malformed field. */
function requireWellFormed(flag: '--volume' | '--mount', fields: Field[]): void {
  const bad = fields.find((f) => f.malformed !== undefined);
  if (bad) {
    throw new NwError(
      'NW_UNIT_EDIT',
      `${flag} ${joinFields(fields)} has a malformed field ${JSON.stringify(bad.malformed)} (expected key=value): fix it in the unit by hand first`,
    );
  }
}

function setField(fields: Field[], key: string, value: string): void {
  const f = fields.find((x) => x.key === key);
  if (f) f.value = value;
  else fields.push({ key, value });
}

export function checkBindMount(m: BindMount): void {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(m.name)) {
    throw new NwError('NW_USAGE', `volume name ${JSON.stringify(m.name)} is not valid for rkt: use lower-case letters, digits and single dashes (e.g. ceph-keyring)`);
  }
  for (const [what, p] of [
    ['source', m.source],
    ['target', m.target],
  ] as const) {
    if (!p.startsWith('/') || WS.test(p) || /[,"'\\\0]/.test(p)) {
      throw new NwError('NW_USAGE', `${what} ${JSON.stringify(p)} must be an absolute path without blanks, commas, quotes or backslashes`);
    }
  }
}

/** Make the pair present exactly once; idempotent. */
export function ensureBindMount(value: string, m: BindMount): { value: string; changed: boolean; summary: string } {
  checkBindMount(m);
  const args = parseRktArgs(value);
  const tokenCount = (args.parts.length - 1) / 2;
  const setToken = (i: number, t: string) => {
    args.parts[2 * i + 1] = t;
  };

  if (args.dangling) {
    throw new NwError(
      'NW_UNIT_EDIT',
      `the kubelet-wrapper arguments end with ${args.dangling} and no value after it (rkt would refuse them): complete or remove it in the unit first`,
    );
  }
  const clash = args.mounts.find((x) => x.target === m.target && x.volume !== m.name);
  if (clash) {
    throw new NwError(
      'NW_RKT_CONFLICT',
      `target ${m.target} is already mounted from volume ${JSON.stringify(clash.volume)}; refusing to mount it again as ${m.name}: remove or rename that --mount first`,
    );
  }
  const vols = args.volumes.filter((v) => v.name === m.name);
  if (vols.length > 1) {
    throw new NwError('NW_RKT_CONFLICT', `volume ${m.name} is declared ${vols.length} times; remove the duplicates by hand first`);
  }
  const notes: string[] = [];
  const added: string[] = [];

  const vol = vols[0];
  if (vol) {
    const before = joinFields(vol.fields);
    if (get(vol.fields, 'kind') !== 'host') setField(vol.fields, 'kind', 'host');
    if (get(vol.fields, 'source') !== m.source) setField(vol.fields, 'source', m.source);
    const ro = get(vol.fields, 'readOnly');
    if (m.readOnly === true && ro !== 'true') setField(vol.fields, 'readOnly', 'true');
    if (m.readOnly === false && ro !== undefined && ro !== 'false') setField(vol.fields, 'readOnly', 'false');
    const after = joinFields(vol.fields);
    if (after !== before) {
      requireWellFormed('--volume', vol.fields);
      setToken(vol.token, (vol.joined ? '--volume=' : '') + after);
      notes.push(`corrected --volume ${before} -> ${after}`);
    }
  }
  const ownMounts = args.mounts.filter((x) => x.volume === m.name);
  const exacts = ownMounts.filter((x) => x.target === m.target);
  if (exacts.length > 1) {
    throw new NwError('NW_RKT_CONFLICT', `volume ${m.name} is mounted at ${m.target} ${exacts.length} times; remove the duplicate --mount by hand first`);
  }
  const exact = exacts[0];
  if (!exact && ownMounts.length === 1) {
    const mt = ownMounts[0];
    requireWellFormed('--mount', mt.fields);
    const before = joinFields(mt.fields);
    setField(mt.fields, 'target', m.target);
    const after = joinFields(mt.fields);
    setToken(mt.token, (mt.joined ? '--mount=' : '') + after);
    notes.push(`corrected --mount ${before} -> ${after}`);
  }

  // Append what is missing, in the author's style (flag form, separator).
  const volSpec = `${m.name},kind=host,source=${m.source}${m.readOnly ? ',readOnly=true' : ''}`;
  const mountSpec = `volume=${m.name},target=${m.target}`;
  const lastVol = args.volumes[args.volumes.length - 1];
  const lastMount = args.mounts[args.mounts.length - 1];
  const volJoined = (lastVol ?? lastMount)?.joined ?? false;
  const mountJoined = (lastMount ?? lastVol)?.joined ?? false;
  const newTokens: string[] = [];
  if (!vol) {
    newTokens.push(...(volJoined ? [`--volume=${volSpec}`] : ['--volume', volSpec]));
    added.push(`--volume ${volSpec}`);
  }
  if (!exact && ownMounts.length !== 1) {
    newTokens.push(...(mountJoined ? [`--mount=${mountSpec}`] : ['--mount', mountSpec]));
    added.push(`--mount ${mountSpec}`);
  }
  let out = args.parts.join('');
  if (newTokens.length) {
    const lineSep = lastSeparator(args.parts);
    // A new pair starts on a new "line" (the author's separator); flag and spec are one apart.
    const chunks: string[] = [];
    for (let k = 0; k < newTokens.length; k++) {
      const t = newTokens[k];
      const startsArg = t.startsWith('--');
      chunks.push((startsArg ? lineSep : ' ') + t);
    }
    const trailing = args.parts[args.parts.length - 1];
    const head = out.slice(0, out.length - trailing.length);
    out = tokenCount === 0 ? chunks.join('').replace(/^[ \t\n\r]+/, '') + value : head + chunks.join('') + trailing;
  }
  const changed = out !== value;
  const summary = !changed
    ? `already present: volume ${m.name} (${m.source}) mounted at ${m.target}`
    : [...notes, ...(added.length ? [`added ${added.join(' and ')}`] : [])].join('; ');
  return { value: out, changed, summary };
}

/** The separator before the last --volume/--mount flag (the author's "new line"), else ' '. */
function lastSeparator(parts: string[]): string {
  for (let i = parts.length - 2; i >= 1; i -= 2) {
    const t = parts[i];
    if ((t === '--volume' || t === '--mount' || t.startsWith('--volume=') || t.startsWith('--mount=')) && i > 1 && parts[i - 1] !== '') {
      return parts[i - 1];
    }
  }
  for (let i = parts.length - 2; i >= 1; i -= 2) if (i > 1 && parts[i - 1] !== '') return parts[i - 1];
  return ' ';
}
