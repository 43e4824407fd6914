// Bring the Ceph lab (lab/ceph/up.sh) up from Node on a free base port and a fresh temp dir,
// and down again (down.sh stops exactly the recorded pids, then removes the dir).
// Used by the e2e-ceph globalSetup and bench P6; anything else may reuse it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CephLab {
  dir: string;
  /** -m value: 127.0.0.1:BASE (msgr v2) */
  monAddr: string;
  /** mon_host: [v2:127.0.0.1:BASE,v1:127.0.0.1:BASE+1] */
  monHost: string;
  conf: string;
  adminKeyring: string;
  /** client.k8s keyring written by up.sh (absent in bare mode) */
  k8sKeyring: string;
  fsid: string;
  monPid: number;
  basePort: number;
  /** true: no pools, fs or client user (what `nodewright ceph prepare` starts from) */
  bare: boolean;
}

// lab/ceph/ in the source tree, also when this file runs compiled from dist/lab/ceph/
const here = path.dirname(fileURLToPath(import.meta.url));
export const LAB_SCRIPTS = [here, path.resolve(here, '../../../lab/ceph')].find((d) => existsSync(path.join(d, 'up.sh'))) ?? here;

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A base port whose mon ports (BASE, BASE+1) and a sample of the daemon range are free. */
export async function freeBasePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + 100 * Math.floor(Math.random() * 90);
    const probe = [base, base + 1, base + 10, base + 50, base + 99];
    if ((await Promise.all(probe.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no free port range for the Ceph lab between 20000 and 29000');
}

export function readLabEnv(dir: string, bare = false): CephLab {
  const env: Record<string, string> = {};
  for (const m of readFileSync(path.join(dir, 'env.sh'), 'utf8').matchAll(/^export (\w+)='?(.*?)'?$/gm)) env[m[1]] = m[2];
  return {
    dir,
    monAddr: env.CEPH_MON_ADDR,
    monHost: env.CEPH_MON_HOST,
    conf: env.CEPH_CONF,
    adminKeyring: env.CEPH_ADMIN_KEYRING,
    k8sKeyring: env.CEPH_K8S_KEYRING,
    fsid: env.CEPH_FSID,
    monPid: Number(env.CEPH_MON_PID),
    basePort: Number(env.CEPH_MON_ADDR.split(':')[1]),
    bare,
  };
}

const labEnv = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', CEPH_SKIP_INSTALL: '1', ...extra });

export async function startCephLab(o: { bare?: boolean; basePort?: number; dir?: string } = {}): Promise<CephLab> {
  if (process.getuid?.() !== 0) throw new Error('the Ceph lab needs root (daemons, FUSE mounts): run as root');
  for (const bin of ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/ceph-mgr', '/usr/bin/ceph-mds', '/usr/bin/ceph', '/usr/bin/rbd', '/usr/bin/ceph-fuse', '/usr/bin/setfattr']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run lab/install-deps.sh (ceph-mon ceph-osd ceph-mgr ceph-mds ceph-common ceph-fuse attr)`);
  }
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: ceph-fuse needs it');
  const base = o.basePort ?? (await freeBasePort());
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'nw-ceph-'));
  const r = spawnSync('bash', [path.join(LAB_SCRIPTS, 'up.sh'), dir], {
    env: labEnv({ CEPH_BASE_PORT: String(base), CEPH_BARE: o.bare ? '1' : '0' }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-3000);
    stopCephLab(dir, { keepDir: true });
    throw new Error(`lab/ceph/up.sh ${dir} failed (exit ${r.status ?? r.signal}); daemon logs kept in ${dir}/log (remove with lab/ceph/down.sh ${dir}):\n${out}`);
  }
  return readLabEnv(dir, !!o.bare);
}

/** Stop exactly what up.sh started in DIR and remove DIR (unless keepDir). Never throws. */
export function stopCephLab(dir: string, o: { keepDir?: boolean } = {}): string {
  const env = labEnv({ CEPH_DOWN_SIGNAL: 'KILL', ...(o.keepDir ? { CEPH_KEEP_DIR: '1' } : {}) });
  const r = spawnSync('bash', [path.join(LAB_SCRIPTS, 'down.sh'), dir], { env, encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
