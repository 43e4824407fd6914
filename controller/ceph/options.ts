// Flags shared by `nodewright ceph prepare`, `cephfs volume create` and `k8s manifests`,
// and how they become the admin connection / names the ceph/ module works with.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import type { CephAdmin } from '../../ceph/admin.js';

export interface ClusterFlags {
  conf?: string;
  mon?: string;
  adminId: string;
  adminKeyring: string;
  id: string;
  pool: string;
  fs: string;
  dataPool: string;
  metadataPool: string;
  timeout: string;
}

export const DEFAULT_CONF = '/etc/ceph/ceph.conf';

export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--conf <file>', `admin ceph.conf (default ${DEFAULT_CONF} when --mon is not given)`)
    .option('--mon <addrs>', 'monitor address(es): 10.0.0.1:3300, or a mon_host like [v2:10.0.0.1:3300,v1:10.0.0.1:6789]')
    .option('--admin-id <id>', 'admin client id', 'admin')
    .option('--admin-keyring <file>', 'admin keyring FILE (never the key itself)', '/etc/ceph/ceph.client.admin.keyring')
    .option('--id <id>', "Kubernetes' client id (client.<id>)", 'k8s')
    .option('--pool <name>', 'RBD pool', 'k8s')
    .option('--fs <name>', 'CephFS name', 'cephfs')
    .option('--data-pool <name>', 'CephFS data pool', 'cephfs_data')
    .option('--metadata-pool <name>', 'CephFS metadata pool', 'cephfs_metadata')
    .option('--timeout <seconds>', 'limit for each ceph command', '30');
}

export const abs = (p: string) => path.resolve(p);

export function seconds(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new NwError('NW_USAGE', `${flag} ${JSON.stringify(v)} is not a positive number of seconds`);
  return Math.round(n * 1000);
}

export function adminFrom(f: ClusterFlags): CephAdmin {
  const conf = f.conf ?? (!f.mon && existsSync(DEFAULT_CONF) ? DEFAULT_CONF : undefined);
  if (!conf && !f.mon) throw new NwError('NW_USAGE', `say where the cluster is: --mon ADDR or --conf FILE (${DEFAULT_CONF} does not exist)`);
  if (!existsSync(f.adminKeyring)) throw new NwError('NW_USAGE', `admin keyring ${f.adminKeyring} does not exist; pass --admin-keyring FILE`);
  return { confPath: conf && abs(conf), monHost: f.mon, id: f.adminId, keyringPath: abs(f.adminKeyring), timeoutMs: seconds(f.timeout, '--timeout') };
}
