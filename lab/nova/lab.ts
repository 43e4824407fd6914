// Start/stop the Nova lab from TypeScript (tests, benchmarks). up.sh/down.sh do the work;
// this picks free loopback ports, a fresh state dir, and reads back lab.env.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { freeBasePort } from '../ceph/lab.js';
import { freePort } from '../ports.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const here = path.dirname(fileURLToPath(import.meta.url));
// works from the source tree (lab/nova) and from dist/lab/nova
const scriptDir = existsSync(path.join(here, 'up.sh')) ? here : path.resolve(here, '../../../lab/nova');

export interface NovaLab {
  dir: string;
  endpoint: string;
  adminToken: string;
  nonAdminToken: string;
  imageId: string;
  /** the image named cirros (a 1 MiB raw stand-in) */
  cirrosId: string;
  flavorId: string;
  /** DIR/clouds.yaml: cloud "lab" (admin token on /trusted/v2.1, Cinder endpoint when Cinder runs) */
  cloudsYaml: string;
  /** compute service host → host_ip */
  computes: Record<string, string>;
  /** server name → compute service host */
  servers: Record<string, string>;
  logs: string;
  /** true when we started it (and so must stop it) */
  owned: boolean;
  /** the real Keystone started with the lab (NOVA_LAB_KEYSTONE=1), if any */
  keystone?: KeystoneLab;
  /** the real Cinder (two RBD backends on a Ceph lab) started with NOVA_LAB_CINDER=1, if any */
  cinder?: CinderLab;
}

export interface CinderLab {
  /** Cinder v3 URL for project admin (noauth: token user:project) */
  endpoint: string;
  port: number;
  logs: string;
  /** the Ceph lab's dir: ceph.conf, ceph.client.admin.keyring, ceph.client.cinder.keyring */
  cephDir: string;
}
export interface KeystoneLab {
  /** Keystone v3 URL (auth_url) */
  authUrl: string;
  region: string;
  /** the keystone-authenticated Nova path the catalog's compute endpoints point at */
  computeEndpoint: string;
  /** files (0600) holding the passwords of admin (project admin), demo (member of demo) */
  adminPasswordFile: string;
  demoPasswordFile: string;
  pid: number;
}

const PORT_VARS = ['NOVA_PORT', 'PLACEMENT_PORT', 'GLANCE_PORT', 'NEUTRON_PORT', 'RABBIT_PORT', 'RABBIT_DIST_PORT', 'EPMD_PORT'];

export function readLabEnv(dir: string): NovaLab {
  const file = path.join(dir, 'lab.env');
  if (!existsSync(file)) throw new Error(`${file} missing: the Nova lab in ${dir} is not up (run lab/nova/up.sh ${dir})`);
  const env = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const pairs = (s: string, i: number) => Object.fromEntries(s.split(' ').filter(Boolean).map((x) => [x.split(':')[0], x.split(':')[i]]));
  return {
    dir,
    endpoint: env.NOVA_ENDPOINT,
    adminToken: env.NOVA_ADMIN_TOKEN,
    nonAdminToken: env.NOVA_NONADMIN_TOKEN,
    imageId: env.NOVA_IMAGE_ID,
    cirrosId: env.NOVA_CIRROS_ID,
    cloudsYaml: env.NOVA_CLOUDS_YAML,
    flavorId: env.NOVA_FLAVOR_ID,
    computes: pairs(env.NOVA_COMPUTES, 1),
    servers: pairs(env.NOVA_SERVERS, 1),
    logs: env.NOVA_LOGS,
    owned: false,
    keystone: env.KEYSTONE_AUTH_URL
      ? {
          authUrl: env.KEYSTONE_AUTH_URL,
          region: env.KEYSTONE_REGION,
          computeEndpoint: env.NOVA_KEYSTONE_ENDPOINT,
          adminPasswordFile: env.KEYSTONE_ADMIN_PASSWORD_FILE,
          demoPasswordFile: env.KEYSTONE_DEMO_PASSWORD_FILE,
          pid: Number(env.KEYSTONE_PID),
        }
      : undefined,
    cinder: env.CINDER_ENDPOINT
      ? { endpoint: env.CINDER_ENDPOINT, port: Number(env.CINDER_PORT), logs: env.CINDER_LOGS, cephDir: env.CEPH_DIR }
      : undefined,
  };
}

/**
 * Bring a lab up. With `reuseDir` (a lab already started by hand) it re-runs the idempotent
 * up.sh there and leaves it running afterwards; otherwise a fresh dir on free ports.
 */
export async function startNovaLab(opts: { reuseDir?: string; timeoutMs?: number; keystone?: boolean; cinder?: boolean } = {}): Promise<NovaLab> {
  const pkgs = ['nova-api', 'nova-conductor', 'nova-scheduler', 'placement-api', 'rabbitmq-server', 'glance-api', 'jq', 'bc', 'curl'];
  if (opts.keystone) pkgs.push('python3-keystone', 'uwsgi-plugin-python3');
  if (opts.cinder) pkgs.push('cinder-api', 'cinder-scheduler', 'cinder-volume', 'python3-rbd', 'qemu-utils', 'postgresql-15', 'python3-psycopg2', 'ceph-mon', 'ceph-osd');
  const q = await execa('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...pkgs], { reject: false });
  const ok = new Set(q.stdout.split('\n').filter((l) => l.endsWith('install ok installed')).map((l) => l.split(' ')[0]));
  const missing = pkgs.filter((p) => !ok.has(p));
  if (missing.length) {
    throw new Error(`Nova lab packages missing (${missing.join(' ')}): run sudo bash lab/install-deps.sh`);
  }
  const dir = opts.reuseDir ?? mkdtempSync('/var/tmp/nodewright-nova-e2e-');
  const env: Record<string, string> = {};
  if (!opts.reuseDir) for (const v of PORT_VARS) env[v] = String(await freePort());
  if (opts.keystone) {
    env.NOVA_LAB_KEYSTONE = '1';
    if (!opts.reuseDir) env.KEYSTONE_PORT = String(await freePort());
  }
  if (opts.cinder) {
    env.NOVA_LAB_CINDER = '1';
    if (!opts.reuseDir) {
      env.CINDER_PORT = String(await freePort());
      env.PG_PORT = String(await freePort());
      env.CEPH_BASE_PORT = String(await freeBasePort());
    }
  }
  const r = await execa('bash', [path.join(scriptDir, 'up.sh'), dir], { env, reject: false, timeout: opts.timeoutMs ?? 300_000, all: true });
  if (r.exitCode !== 0) {
    if (!opts.reuseDir) await stopNovaLab(dir, false);
    throw new Error(`lab/nova/up.sh failed (exit ${r.exitCode}); logs kept in ${dir}/log\n${(r.all ?? '').split('\n').slice(-15).join('\n')}`);
  }
  return { ...readLabEnv(dir), owned: !opts.reuseDir };
}

/** Stop exactly the pids up.sh recorded; purge the dir unless asked to keep it. */
export async function stopNovaLab(dir: string, purge = true): Promise<string> {
  const r = await execa('bash', [path.join(scriptDir, 'down.sh'), dir, ...(purge ? ['--purge'] : [])], { reject: false, timeout: 120_000, all: true });
  return r.all ?? '';
}
