// ceph.conf: a tolerant INI parser (keys compared with spaces/underscores/dashes folded) and
// the minimal worker conf we write: fsid + mon host only. No `run dir`, admin socket or log
// paths: ceph-fuse aborts (SIGABRT, exit 134) when a configured run dir does not exist.
import { NwError } from '../host/errors.js';

export type CephConf = Record<string, Record<string, string>>;

export const normalizeKey = (k: string) => k.trim().toLowerCase().replace(/[\s_-]+/g, '_');

export function parseCephConf(text: string, source = 'ceph.conf'): CephConf {
  const conf: CephConf = {};
  let section: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      conf[section] ??= {};
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new NwError('NW_CONFIG', `${source} line ${i + 1}: expected "[section]" or "key = value"`);
    if (section === null) throw new NwError('NW_CONFIG', `${source} line ${i + 1}: setting outside a section; put it under [global]`);
    conf[section][normalizeKey(kv[1])] = kv[2].trim();
  });
  return conf;
}

export const confGet = (conf: CephConf, key: string, section = 'global'): string | undefined =>
  conf[section]?.[normalizeKey(key)] ?? conf.global?.[normalizeKey(key)];

export interface MinimalConf {
  fsid: string;
  monHost: string;
}

export function formatCephConf(c: MinimalConf): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(c.fsid)) {
    throw new NwError('NW_CONFIG', `fsid ${JSON.stringify(c.fsid)} is not a UUID; take it from \`ceph fsid\``);
  }
  if (!c.monHost.trim() || /[\n\r]/.test(c.monHost)) throw new NwError('NW_CONFIG', 'mon host is empty or spans lines; give e.g. [v2:10.0.0.1:3300,v1:10.0.0.1:6789]');
  return `[global]\n\tfsid = ${c.fsid}\n\tmon host = ${c.monHost.trim()}\n`;
}

/** The minimal conf a worker needs, taken from a full (admin) ceph.conf. */
export function minimalFrom(conf: CephConf, source = 'ceph.conf'): MinimalConf {
  const fsid = confGet(conf, 'fsid');
  const monHost = confGet(conf, 'mon host');
  if (!fsid || !monHost) throw new NwError('NW_CONFIG', `${source} lacks fsid or mon host in [global]`);
  return { fsid, monHost };
}

export interface MonAddr {
  v1?: string;
  v2?: string;
  bare?: string;
}

/** Split a mon_host ("[v2:a:3300,v1:a:6789],b:6789" or "a:3300") into one entry per monitor. */
export function parseMonHost(monHost: string): MonAddr[] {
  const mons: MonAddr[] = [];
  const re = /\[([^\]]*)\]|([^,\s\[\]]+)/g;
  for (const m of monHost.matchAll(re)) {
    const mon: MonAddr = {};
    const parts = m[1] !== undefined ? m[1].split(',') : [m[2]];
    for (const p of parts.map((s) => s.trim()).filter(Boolean)) {
      if (p.startsWith('v1:')) mon.v1 = p.slice(3);
      else if (p.startsWith('v2:')) mon.v2 = p.slice(3);
      else mon.bare = p;
    }
    if (mon.v1 || mon.v2 || mon.bare) mons.push(mon);
  }
  if (mons.length === 0) throw new NwError('NW_CONFIG', `mon host ${JSON.stringify(monHost)} names no monitor`);
  return mons;
}

/**
 * Monitors as Kubernetes' in-tree rbd/cephfs plugins want them ("ip:port,…"): the msgr v1
 * address where known (old kernel clients speak only v1), else the address as given.
 */
export function kubernetesMonitors(monHost: string): string[] {
  return parseMonHost(monHost).map((m) => m.v1 ?? m.bare ?? (m.v2 as string));
}
