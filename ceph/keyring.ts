// Ceph keyring files ([client.k8s] / key = … / caps mon = "…"): parse, validate, format.
// Error messages never quote the key itself.
import { NwError } from '../host/errors.js';

export interface KeyringEntry {
  entity: string; // e.g. client.k8s
  key: string; // base64 cephx secret
  caps: Record<string, string>; // mon/osd/mds/mgr → cap string
}

/** A cephx key is base64 of: le16 type (1 = AES), 8 bytes created, le16 length, secret. */
export function isValidCephKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false;
  const b = Buffer.from(key, 'base64');
  if (b.length < 13) return false;
  return b.readUInt16LE(0) === 1 && b.readUInt16LE(10) === b.length - 12;
}

const unquote = (v: string) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);

export function parseKeyring(text: string, source = 'keyring'): KeyringEntry[] {
  const entries: KeyringEntry[] = [];
  let cur: { entity: string; key?: string; caps: Record<string, string> } | null = null;
  const flush = () => {
    if (!cur) return;
    if (!cur.key) {
      throw new NwError('NW_CEPH_KEYRING', `${source}: [${cur.entity}] has no "key = …" line; export it again with \`ceph auth get ${cur.entity}\``);
    }
    entries.push({ entity: cur.entity, key: cur.key, caps: cur.caps });
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      flush();
      cur = { entity: sec[1].trim(), caps: {} };
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv || !cur) {
      throw new NwError('NW_CEPH_KEYRING', `${source} line ${i + 1}: expected "[client.NAME]" or "name = value"; fix the file or export it again with \`ceph auth get\``);
    }
    const name = kv[1].trim().replace(/\s+/g, ' ');
    const value = unquote(kv[2].trim());
    const c = cur as { entity: string; key?: string; caps: Record<string, string> };
    if (name === 'key') {
      if (!isValidCephKey(value)) {
        throw new NwError('NW_CEPH_KEYRING', `${source}: the key of [${c.entity}] is not a valid cephx key (base64 of a 28-byte AES secret, as \`ceph auth get\` prints); export it again`);
      }
      c.key = value;
    } else if (name.startsWith('caps ')) {
      c.caps[name.slice(5).trim()] = value;
    }
    // other settings (auid, …) are ignored
  });
  flush();
  if (entries.length === 0) throw new NwError('NW_CEPH_KEYRING', `${source}: no [client.NAME] section found; export the keyring with \`ceph auth get client.NAME\``);
  return entries;
}

export function formatKeyring(entries: readonly KeyringEntry[]): string {
  return entries
    .map((e) => {
      if (!isValidCephKey(e.key)) throw new NwError('NW_CEPH_KEYRING', `refusing to write [${e.entity}]: its key is not a valid cephx key`);
      const caps = Object.keys(e.caps)
        .sort()
        .map((k) => `\tcaps ${k} = "${e.caps[k]}"\n`)
        .join('');
      return `[${e.entity}]\n\tkey = ${e.key}\n${caps}`;
    })
    .join('');
}

/** The entry for client.<id>; a coded error naming what the file does hold otherwise. */
export function entryFor(entries: readonly KeyringEntry[], id: string, source = 'keyring'): KeyringEntry {
  const want = id.startsWith('client.') ? id : `client.${id}`;
  const e = entries.find((x) => x.entity === want);
  if (!e) throw new NwError('NW_CEPH_KEYRING', `${source} has no [${want}] (it has ${entries.map((x) => x.entity).join(', ')}); pass the right --id or keyring`);
  return e;
}
