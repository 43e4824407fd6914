// `nodewright ceph prepare`: observe the cluster, plan (pure data, printable), apply.
// Pools, the CephFS, and the client user with the seed's caps; caps of an existing user are
// changed with `auth caps` (get-or-create with different caps fails with EINVAL).
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';
import { type CephAdmin, cephAdmin, cephAdminJson } from './admin.js';
import { formatKeyring, parseKeyring } from './keyring.js';

export interface PrepareSpec {
  rbdPool: string;
  fsName: string;
  dataPool: string;
  metadataPool: string;
  clientId: string; // without "client."
  pgNum: number;
  /** where to export the client keyring (mode 0600) */
  keyringOut?: string;
  /** The controller's read-only monitor client (`mon 'allow r'`: rollout gates read `ceph status` with it). */
  monitor?: { clientId: string; keyringOut?: string };
}

export interface ClusterState {
  pools: string[];
  rbdApplications: string[]; // applications enabled on the rbd pool
  filesystems: { name: string; metadata_pool: string; data_pools: string[] }[];
  client: { key: string; caps: Record<string, string> } | null;
  /** the keyring file as found: its key (if parseable) and mode; null when absent */
  keyringFile: { key: string | null; mode: number } | null;
  /** The monitor client and its keyring file, when the spec names one. */
  monitor?: { client: ClusterState['client']; keyringFile: ClusterState['keyringFile'] };
}

export type PrepareAction =
  | { kind: 'create-pool'; pool: string; pgNum: number }
  | { kind: 'enable-rbd'; pool: string }
  | { kind: 'create-fs'; fs: string; metadataPool: string; dataPool: string }
  | { kind: 'create-client'; entity: string; caps: Record<string, string> }
  | { kind: 'update-caps'; entity: string; from: Record<string, string>; to: Record<string, string> }
  | { kind: 'write-keyring'; entity: string; path: string; why: string };

export const entityOf = (id: string) => `client.${id.replace(/^client\./, '')}`;

/** The seed's caps: rbd images in the rbd pool, files in the CephFS data pool, quota xattrs (p). */
export function desiredCaps(s: PrepareSpec): Record<string, string> {
  return { mon: 'allow rwx', osd: `allow rwx pool=${s.rbdPool}, allow rw pool=${s.dataPool}`, mds: 'allow rwp' };
}

/** The controller's monitor client reads the cluster's status and nothing else. */
export const MONITOR_CAPS: Record<string, string> = { mon: 'allow r' };

const norm = (v: string) => v.trim().replace(/\s+/g, ' ').replace(/\s*,\s*/g, ', ');
export function sameCaps(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && norm(a[k]) === norm(b[k]));
}

export function planPrepare(st: ClusterState, s: PrepareSpec): PrepareAction[] {
  const actions: PrepareAction[] = [];
  for (const pool of [s.rbdPool, s.dataPool, s.metadataPool]) {
    if (!st.pools.includes(pool) && !actions.some((a) => a.kind === 'create-pool' && a.pool === pool)) actions.push({ kind: 'create-pool', pool, pgNum: s.pgNum });
  }
  if (!st.rbdApplications.includes('rbd')) actions.push({ kind: 'enable-rbd', pool: s.rbdPool });
  const fs = st.filesystems.find((f) => f.name === s.fsName);
  if (!fs) {
    const other = st.filesystems.find((f) => f.metadata_pool === s.metadataPool || f.data_pools.includes(s.dataPool));
    if (other) throw new NwError('NW_CEPH', `pools ${s.metadataPool}/${s.dataPool} already belong to filesystem ${other.name}; pass --fs ${other.name} or other --data-pool/--metadata-pool`);
    actions.push({ kind: 'create-fs', fs: s.fsName, metadataPool: s.metadataPool, dataPool: s.dataPool });
  } else if (fs.metadata_pool !== s.metadataPool || !fs.data_pools.includes(s.dataPool)) {
    throw new NwError('NW_CEPH', `filesystem ${s.fsName} uses metadata pool ${fs.metadata_pool} and data pools ${fs.data_pools.join(', ')}; pass --metadata-pool ${fs.metadata_pool} --data-pool ${fs.data_pools[0]}`);
  }
  planClient(actions, entityOf(s.clientId), desiredCaps(s), st.client, st.keyringFile, s.keyringOut);
  if (s.monitor) planClient(actions, entityOf(s.monitor.clientId), MONITOR_CAPS, st.monitor?.client ?? null, st.monitor?.keyringFile ?? null, s.monitor.keyringOut);
  return actions;
}

function planClient(actions: PrepareAction[], entity: string, want: Record<string, string>, client: ClusterState['client'], f: ClusterState['keyringFile'], keyringOut: string | undefined): void {
  if (!client) actions.push({ kind: 'create-client', entity, caps: want });
  else if (!sameCaps(client.caps, want)) actions.push({ kind: 'update-caps', entity, from: client.caps, to: want });
  if (keyringOut) {
    const why = !client ? 'new user' : !f ? 'file missing' : f.key !== client.key ? 'key differs' : (f.mode & 0o777) !== 0o600 ? `mode ${(f.mode & 0o777).toString(8)} is not 600` : null;
    if (why) actions.push({ kind: 'write-keyring', entity, path: keyringOut, why });
  }
}

const capsText = (c: Record<string, string>) =>
  Object.keys(c)
    .sort()
    .map((k) => `${k} '${c[k]}'`)
    .join(' ');

export function describeAction(a: PrepareAction): string {
  switch (a.kind) {
    case 'create-pool':
      return `create pool ${a.pool} (${a.pgNum} PGs)`;
    case 'enable-rbd':
      return `enable application rbd on pool ${a.pool}`;
    case 'create-fs':
      return `create filesystem ${a.fs} (metadata ${a.metadataPool}, data ${a.dataPool})`;
    case 'create-client':
      return `create ${a.entity} with caps ${capsText(a.caps)}`;
    case 'update-caps':
      return `update caps of ${a.entity}: ${capsText(a.from) || '(none)'} -> ${capsText(a.to)}`;
    case 'write-keyring':
      return `write keyring of ${a.entity} to ${a.path} (mode 0600; ${a.why})`;
  }
}

export function describeUnchanged(s: PrepareSpec): string {
  const monitor = s.monitor ? `, ${entityOf(s.monitor.clientId)} and its caps${s.monitor.keyringOut ? `, keyring ${s.monitor.keyringOut}` : ''}` : '';
  return `nothing changed: pools ${s.rbdPool}, ${s.dataPool}, ${s.metadataPool}, filesystem ${s.fsName}, ${entityOf(s.clientId)} and its caps${s.keyringOut ? `, keyring ${s.keyringOut}` : ''}${monitor} are already as wanted`;
}

export async function observeCluster(host: Host, a: CephAdmin, s: PrepareSpec): Promise<ClusterState> {
  const detail = await cephAdminJson<{ pool_name: string; application_metadata?: Record<string, unknown> }[]>(host, a, ['osd', 'pool', 'ls', 'detail'], 'list pools');
  const pools = detail.map((p) => p.pool_name);
  const rbdApplications = Object.keys(detail.find((p) => p.pool_name === s.rbdPool)?.application_metadata ?? {});
  const filesystems = await cephAdminJson<ClusterState['filesystems']>(host, a, ['fs', 'ls'], 'list filesystems');
  const entity = entityOf(s.clientId);
  const client = await readClient(host, a, entity);
  const keyringFile = await readKeyringFile(host, entity, s.keyringOut);
  const monitor = s.monitor
    ? { client: await readClient(host, a, entityOf(s.monitor.clientId)), keyringFile: await readKeyringFile(host, entityOf(s.monitor.clientId), s.monitor.keyringOut) }
    : undefined;
  return { pools, rbdApplications, filesystems, client, keyringFile, ...(monitor ? { monitor } : {}) };
}

async function readClient(host: Host, a: CephAdmin, entity: string): Promise<ClusterState['client']> {
  const got = await cephAdmin(host, a, ['auth', 'get', entity, '-f', 'json'], `read ${entity}`, [2]);
  if (got.exitCode === 0) {
    const [e] = JSON.parse(got.stdout) as { key: string; caps: Record<string, string> }[];
    return { key: e.key, caps: e.caps ?? {} };
  }
  if (!/ENOENT|failed to find/.test(got.stderr)) throw new NwError('NW_CEPH', `reading ${entity} failed: ${got.stderr.trim().slice(-300)}`);
  return null;
}

async function readKeyringFile(host: Host, entity: string, file: string | undefined): Promise<ClusterState['keyringFile']> {
  if (!file || !(await host.fs.exists(file))) return null;
  const st = await host.fs.stat(file);
  let key: string | null = null;
  try {
    key = parseKeyring(await host.fs.readText(file), file).find((x) => x.entity === entity)?.key ?? null;
  } catch {
    key = null; // malformed: will be rewritten
  }
  return { key, mode: st.mode };
}

export async function applyAction(host: Host, a: CephAdmin, act: PrepareAction): Promise<void> {
  const what = describeAction(act);
  switch (act.kind) {
    case 'create-pool':
      await cephAdmin(host, a, ['osd', 'pool', 'create', act.pool, String(act.pgNum), String(act.pgNum)], what);
      return;
    case 'enable-rbd':
      await cephAdmin(host, a, ['osd', 'pool', 'application', 'enable', act.pool, 'rbd'], what);
      return;
    case 'create-fs':
      await cephAdmin(host, a, ['fs', 'new', act.fs, act.metadataPool, act.dataPool], what);
      return;
    case 'create-client':
      await cephAdmin(host, a, ['auth', 'get-or-create', act.entity, ...Object.entries(act.caps).flat()], what);
      return;
    case 'update-caps':
      await cephAdmin(host, a, ['auth', 'caps', act.entity, ...Object.entries(act.to).flat()], what);
      return;
    case 'write-keyring': {
      const got = await cephAdminJson<{ key: string }[]>(host, a, ['auth', 'get', act.entity], `read the key of ${act.entity}`);
      await host.fs.writeAtomic(act.path, formatKeyring([{ entity: act.entity, key: got[0].key, caps: {} }]), { mode: 0o600, backup: false });
      return;
    }
  }
}

/** Wait until the filesystem has an active MDS; false when none came up in time. */
export async function waitForActiveMds(host: Host, a: CephAdmin, fsName: string, waitMs: number): Promise<boolean> {
  const until = host.clock.now() + waitMs;
  for (;;) {
    const st = await cephAdminJson<{ fsmap: { filesystems: { mdsmap: { fs_name: string; info: Record<string, { state: string }> } }[] } }>(host, a, ['mds', 'stat'], 'read the MDS map');
    const fs = st.fsmap.filesystems.find((f) => f.mdsmap.fs_name === fsName);
    if (fs && Object.values(fs.mdsmap.info).some((i) => i.state === 'up:active')) return true;
    if (host.clock.now() >= until) return false;
    await host.clock.sleep(250);
  }
}
