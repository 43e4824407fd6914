// `nodewright ceph prepare`, `nodewright cephfs volume create`, `nodewright k8s manifests`.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createHost } from '../../host/index.js';
import { NwError } from '../../host/errors.js';
import { resolveMonHost } from '../../ceph/admin.js';
import { kubernetesMonitors } from '../../ceph/conf.js';
import { entryFor, parseKeyring } from '../../ceph/keyring.js';
import { cephfsVolumeManifests, storageManifests, toYaml } from '../../ceph/k8s-manifests.js';
import { applyAction, describeAction, describeUnchanged, entityOf, observeCluster, planPrepare, waitForActiveMds, type PrepareSpec } from '../../ceph/prepare.js';
import { parseQuantity } from '../../ceph/quantity.js';
import { ensureQuotaDir, volumePath } from '../../ceph/volume.js';
import { type ClusterFlags, abs, addClusterFlags, adminFrom, seconds } from '../ceph/options.js';

export interface CliIo {
  out: (s: string) => void; // results (YAML, plan)
  err: (s: string) => void; // progress and warnings
}

const processIo: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

async function monitorsFor(f: ClusterFlags & { monitors?: string }): Promise<string[]> {
  if (f.monitors) return list(f.monitors);
  if (!f.mon && !f.conf) throw new NwError('NW_USAGE', 'say where the monitors are: --monitors a:6789,b:6789, --mon ADDR or --conf FILE');
  return kubernetesMonitors(await resolveMonHost({ confPath: f.conf && abs(f.conf), monHost: f.mon, keyringPath: '' }));
}

export function registerCephCommands(program: Command, io: CliIo = processIo): void {
  const ceph = program.commands.find((c) => c.name() === 'ceph') ?? program.command('ceph').description('Ceph cluster side (admin keyring)');
  addClusterFlags(ceph.command('prepare').description("idempotently create the RBD pool, the CephFS pools and fs, and Kubernetes' client user; export its keyring"))
    .option('--pg-num <n>', 'PGs for new pools', '8')
    .option('--keyring-out <file>', 'export the client keyring to FILE (mode 0600)')
    .option('--mds-wait <seconds>', 'after creating the fs, wait this long for an active MDS', '30')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--monitor-id <id>', "also create the controller's read-only client (mon 'allow r') for rollout gates, e.g. nodewright-controller")
    .option('--monitor-keyring-out <file>', 'export its keyring to FILE (mode 0600; controller.yaml ceph.keyringFile); --monitor-id defaults to nodewright-controller')
    .action(async (f: ClusterFlags & { pgNum: string; keyringOut?: string; mdsWait: string; dryRun?: boolean; monitorId?: string; monitorKeyringOut?: string }) => {
      const host = createHost();
      const admin = adminFrom(f);
      const pgNum = Number(f.pgNum);
      if (!Number.isInteger(pgNum) || pgNum < 1) throw new NwError('NW_USAGE', `--pg-num ${f.pgNum} is not a positive integer`);
      const monitorId = f.monitorId ?? (f.monitorKeyringOut ? 'nodewright-controller' : undefined);
      if (monitorId && entityOf(monitorId) === entityOf(f.id)) throw new NwError('NW_USAGE', `--monitor-id ${monitorId} is Kubernetes' client (--id); the controller's read-only client needs its own id`);
      const spec: PrepareSpec = {
        rbdPool: f.pool, fsName: f.fs, dataPool: f.dataPool, metadataPool: f.metadataPool, clientId: f.id, pgNum, keyringOut: f.keyringOut && abs(f.keyringOut),
        ...(monitorId ? { monitor: { clientId: monitorId.replace(/^client\./, ''), keyringOut: f.monitorKeyringOut && abs(f.monitorKeyringOut) } } : {}),
      };
      const plan = planPrepare(await observeCluster(host, admin, spec), spec);
      if (plan.length === 0) {
        io.out(describeUnchanged(spec) + '\n');
        return;
      }
      for (const act of plan) {
        if (f.dryRun) {
          io.out(`would ${describeAction(act)}\n`);
          continue;
        }
        await applyAction(host, admin, act);
        io.out(`${describeAction(act)}: done\n`);
      }
      if (!f.dryRun && plan.some((a) => a.kind === 'create-fs')) {
        const active = await waitForActiveMds(host, admin, spec.fsName, seconds(f.mdsWait, '--mds-wait'));
        if (!active) io.err(`warning: filesystem ${spec.fsName} has no active MDS yet; CephFS mounts will wait until a ceph-mds serves it\n`);
      }
    });

  const cephfs = program.commands.find((c) => c.name() === 'cephfs') ?? program.command('cephfs').description('CephFS volumes with quotas');
  const volume = cephfs.command('volume').description('quota-limited CephFS directories as Kubernetes volumes');
  addClusterFlags(volume.command('create').argument('<name>', 'volume name (PV and PVC name, directory name)').description('create a CephFS directory with ceph.quota.max_bytes and print its PV + PVC'))
    .requiredOption('--size <quantity>', 'quota and capacity, e.g. 100Mi')
    .option('--path <cephfs-path>', 'directory in CephFS (default /kubernetes/<name>)')
    .option('--namespace <ns>', 'namespace of the PVC', 'default')
    .option('--secret-name <name>', 'Secret holding the client key', 'ceph-k8s-secret')
    .option('--secret-namespace <ns>', 'namespace of that Secret (default: the pod’s)')
    .option('--monitors <list>', 'monitors for Kubernetes, e.g. 10.0.0.1:6789,10.0.0.2:6789 (default: from --mon/--conf, msgr v1 addresses)')
    .action(async (name: string, f: ClusterFlags & { size: string; path?: string; namespace: string; secretName: string; secretNamespace?: string; monitors?: string }) => {
      const host = createHost();
      const admin = adminFrom(f);
      const bytes = parseQuantity(f.size);
      const p = f.path ?? volumePath(name);
      const r = await ensureQuotaDir(host, admin, p, bytes);
      io.err(
        r.previousQuotaBytes === null
          ? `created ${r.path} with ceph.quota.max_bytes=${bytes}\n`
          : r.changed
            ? `set ceph.quota.max_bytes of ${r.path}: ${r.previousQuotaBytes || 'none'} -> ${bytes}\n`
            : `${r.path} already has ceph.quota.max_bytes=${bytes}: nothing changed\n`,
      );
      const monitors = await monitorsFor(f);
      io.out(toYaml(cephfsVolumeManifests({ name, namespace: f.namespace, size: f.size, path: r.path, monitors, clientId: f.id, secretName: f.secretName, secretNamespace: f.secretNamespace })));
    });

  const k8s = program.commands.find((c) => c.name() === 'k8s') ?? program.command('k8s').description('Kubernetes objects for Ceph');
  k8s
    .command('manifests')
    .description('print the client key Secret(s), the ceph-rbd and cephfs StorageClasses as YAML')
    .requiredOption('--client-keyring <file>', 'the client keyring exported by `nodewright ceph prepare --keyring-out`')
    .option('--id <id>', 'client id', 'k8s')
    .option('--pool <name>', 'RBD pool', 'k8s')
    .option('--mon <addrs>', 'monitor address(es) or mon_host')
    .option('--conf <file>', 'ceph.conf to read `mon host` from')
    .option('--monitors <list>', 'monitors exactly as Kubernetes should use them (overrides --mon/--conf)')
    .option('--secret-name <name>', 'Secret name', 'ceph-k8s-secret')
    .option('--secret-namespaces <list>', 'namespaces that get the Secret', 'kube-system,default')
    .option('--admin-secret-namespace <ns>', 'namespace of the Secret the provisioner uses', 'kube-system')
    .option('--default', 'mark ceph-rbd as the default StorageClass')
    .option('--rbd-class <name>', 'RBD StorageClass name', 'ceph-rbd')
    .option('--cephfs-class <name>', 'CephFS StorageClass name', 'cephfs')
    .action(async (f: ClusterFlags & { clientKeyring: string; monitors?: string; secretName: string; secretNamespaces: string; adminSecretNamespace: string; default?: boolean; rbdClass: string; cephfsClass: string }) => {
      const text = await readFile(abs(f.clientKeyring), 'utf8').catch(() => {
        throw new NwError('NW_USAGE', `cannot read ${f.clientKeyring}; export it with \`nodewright ceph prepare --keyring-out ${f.clientKeyring}\``);
      });
      const entry = entryFor(parseKeyring(text, f.clientKeyring), f.id, f.clientKeyring);
      const monitors = await monitorsFor(f);
      const namespaces = list(f.secretNamespaces);
      if (!namespaces.includes(f.adminSecretNamespace)) namespaces.unshift(f.adminSecretNamespace);
      io.out(
        toYaml(
          storageManifests({
            monitors,
            clientId: f.id.replace(/^client\./, ''),
            key: entry.key,
            pool: f.pool,
            secretName: f.secretName,
            secretNamespaces: namespaces,
            adminSecretNamespace: f.adminSecretNamespace,
            defaultClass: !!f.default,
            rbdClassName: f.rbdClass,
            cephfsClassName: f.cephfsClass,
          }),
        ),
      );
    });
}
