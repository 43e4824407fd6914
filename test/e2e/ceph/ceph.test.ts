// The Ceph proof against a real cluster (lab/ceph, brought up bare by setup.ts): prepare on a
// fresh cluster and again (no change), manifests from the exported keyring, a 100 MB quota
// volume, both probes with the exported client keyring, coded auth/abort errors, and — last,
// because it stops the mon by its pid — coded timeouts with no hung process and no leftover mount.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createHost } from '../../../host/index.js';
import type { NwError } from '../../../host/errors.js';
import type { CephClient } from '../../../ceph/client.js';
import { parseKeyring, formatKeyring } from '../../../ceph/keyring.js';
import { formatCephConf } from '../../../ceph/conf.js';
import { rbdProbe } from '../../../ceph/probe-rbd.js';
import { quotaProbe } from '../../../ceph/probe-quota.js';
import { fusePids, isMounted } from '../../../ceph/fuse.js';
import { validateManifest } from '../../unit/ceph/k8s-validate.js';
import { nodewright } from './cli.js';

const lab = inject('cephLab');
const host = createHost();
const work = mkdtempSync(path.join(tmpdir(), 'nw-ceph-e2e-'));
const keyring = path.join(work, 'ceph.client.k8s.keyring');
const admin = ['--mon', lab.monAddr, '--admin-keyring', lab.adminKeyring];
const asAdmin = (...args: string[]) => execFileSync('ceph', ['-c', '/dev/null', '-m', lab.monAddr, '--id', 'admin', '--keyring', lab.adminKeyring, '--connect-timeout', '10', ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
const k8s = (o: Partial<CephClient> = {}): CephClient => ({ monHost: lab.monAddr, id: 'k8s', keyringPath: keyring, timeoutMs: 10_000, ...o });
const noLeftovers = async (mountDir: string) => {
  expect(await isMounted(mountDir)).toBe(false);
  expect(await fusePids(mountDir)).toEqual([]);
};
const docs = (y: string) => parseAllDocuments(y).map((d) => d.toJSON() as Record<string, any>);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('nodewright ceph prepare', () => {
  it('sets up a fresh cluster: pools, fs, client.k8s with the seed caps, keyring exported 0600', async () => {
    expect(JSON.parse(asAdmin('osd', 'pool', 'ls', '-f', 'json'))).toEqual([]);
    const r = await nodewright('ceph', 'prepare', ...admin, '--keyring-out', keyring);
    expect(r.out).toMatch(/create pool k8s \(8 PGs\): done/);
    expect(r.out).toMatch(/create filesystem cephfs \(metadata cephfs_metadata, data cephfs_data\): done/);
    expect(r.out).toMatch(/create client\.k8s with caps .*: done/);
    expect(r.out).toMatch(/write keyring of client\.k8s to .* \(mode 0600; new user\): done/);
    expect(r.err).not.toMatch(/warning/); // an MDS became active
    const [u] = JSON.parse(asAdmin('auth', 'get', 'client.k8s', '-f', 'json'));
    expect(u.caps).toEqual({ mon: 'allow rwx', osd: 'allow rwx pool=k8s, allow rw pool=cephfs_data', mds: 'allow rwp' });
    expect(statSync(keyring).mode & 0o777).toBe(0o600);
    expect(parseKeyring(readFileSync(keyring, 'utf8'))[0].key).toBe(u.key);
  });

  it('changes nothing when run again, and says so', async () => {
    const r = await nodewright('ceph', 'prepare', ...admin, '--keyring-out', keyring);
    expect(r.out.trim()).toMatch(/^nothing changed: pools k8s, cephfs_data, cephfs_metadata, filesystem cephfs, client\.k8s and its caps, keyring .* are already as wanted$/);
  });

  it('repairs drifted caps with `auth caps` (get-or-create would fail) and then is quiet again', async () => {
    asAdmin('auth', 'caps', 'client.k8s', 'mon', 'allow r', 'osd', 'allow rwx pool=k8s');
    const dry = await nodewright('ceph', 'prepare', ...admin, '--dry-run');
    expect(dry.out).toMatch(/^would update caps of client\.k8s: mon 'allow r' osd 'allow rwx pool=k8s' -> /);
    const r = await nodewright('ceph', 'prepare', ...admin, '--keyring-out', keyring);
    expect(r.out).toMatch(/update caps of client\.k8s: .*: done/);
    expect((await nodewright('ceph', 'prepare', ...admin, '--keyring-out', keyring)).out).toMatch(/^nothing changed/);
  });
});

describe('manifests and volumes', () => {
  it('k8s manifests from the exported keyring: Secrets, default ceph-rbd and cephfs classes, schema-valid', async () => {
    const r = await nodewright('k8s', 'manifests', '--client-keyring', keyring, '--mon', lab.monHost, '--default');
    const ds = docs(r.out);
    ds.forEach(validateManifest);
    expect(ds.map((d) => d.kind)).toEqual(['Secret', 'Secret', 'StorageClass', 'StorageClass']);
    expect(Buffer.from(ds[0].data.key, 'base64').toString()).toBe(parseKeyring(readFileSync(keyring, 'utf8'))[0].key);
    expect(ds[2].metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(ds[2].parameters.monitors).toBe(`127.0.0.1:${lab.basePort + 1}`); // the msgr v1 address
  });

  it('cephfs volume create sets a 100 MB quota and prints a valid PV + PVC; again: nothing changed', async () => {
    const r = await nodewright('cephfs', 'volume', 'create', 'probe-100m', '--size', '100M', ...admin, '--namespace', 'test');
    expect(r.err).toMatch(/created \/kubernetes\/probe-100m with ceph\.quota\.max_bytes=100000000/);
    const ds = docs(r.out);
    ds.forEach(validateManifest);
    expect(ds[0].spec.cephfs).toMatchObject({ path: '/kubernetes/probe-100m', user: 'k8s', monitors: [lab.monAddr] });
    const again = await nodewright('cephfs', 'volume', 'create', 'probe-100m', '--size', '100M', '--conf', lab.conf, '--admin-keyring', lab.adminKeyring);
    expect(again.err).toMatch(/already has ceph\.quota\.max_bytes=100000000: nothing changed/);
  });
});

describe('probes with the exported client keyring', () => {
  it('rbd probe passes and leaves no image behind', async () => {
    const r = await rbdProbe(host, k8s(), { pool: 'k8s' });
    expect(r, JSON.stringify(r)).toMatchObject({ name: 'rbd', status: 'pass', ok: true });
    expect(r.details.cleanup).toBe('removed');
    expect(String(r.details.kernelRbd)).toMatch(/kernel rbd unavailable|mapped/);
    expect(asAdmin('--id', 'admin', 'osd', 'pool', 'ls')).toMatch(/k8s/);
    expect(execFileSync('rbd', ['-c', '/dev/null', '-m', lab.monAddr, '--id', 'k8s', '--keyring', keyring, 'ls', 'k8s'], { encoding: 'utf8', timeout: 30_000 })).not.toMatch(/nw-probe-/);
  });

  it('quota probe passes on the 100 MB directory: df shows 92M, EDQUOT within bounds, second write fails at once', async () => {
    const mountDir = path.join(work, 'mnt-100m');
    const r = await quotaProbe(host, k8s(), { path: '/kubernetes/probe-100m', mountDir });
    expect(r, JSON.stringify(r)).toMatchObject({ name: 'cephfs-quota', status: 'pass', ok: true });
    const d = r.details as Record<string, number>;
    expect(d.quotaBytes).toBe(100_000_000);
    expect(d.dfSizeBytes).toBe(96_468_992);
    expect(d.bytesBeforeEdquot).toBeGreaterThan(50_000_000);
    expect(d.bytesBeforeEdquot).toBeLessThanOrEqual(200_000_000);
    expect(d.secondWriteBytes).toBe(0);
    await noLeftovers(mountDir);
  });

  it('quota probe reports "not enforced" (not a pass) on a directory without quota', async () => {
    const mountDir = path.join(work, 'mnt-noquota');
    const r = await quotaProbe(host, k8s(), { path: '/kubernetes', mountDir });
    expect(r, JSON.stringify(r)).toMatchObject({ status: 'not-enforced', ok: false, error: { code: 'NW_QUOTA' } });
    expect(r.details.quotaBytes).toBe(0);
    await noLeftovers(mountDir);
  });
});

describe('probes on a worker --root with the minimal ceph.conf', () => {
  it('both probes pass from a sandbox root holding /etc/ceph/{ceph.conf (fsid + mon host), keyring}; a 16Mi quota probes fast', async () => {
    const root = path.join(work, 'root');
    mkdirSync(path.join(root, 'etc/ceph'), { recursive: true });
    writeFileSync(path.join(root, 'etc/ceph/ceph.conf'), formatCephConf({ fsid: lab.fsid, monHost: lab.monHost }));
    writeFileSync(path.join(root, 'etc/ceph/ceph.client.k8s.keyring'), readFileSync(keyring), { mode: 0o600 });
    const small = await nodewright('cephfs', 'volume', 'create', 'probe-16mi', '--size', '16Mi', ...admin);
    expect(small.err).toMatch(/created \/kubernetes\/probe-16mi with ceph\.quota\.max_bytes=16777216/);
    const worker = createHost({ root, stateDir: '/var/lib/nodewright' });
    const c: CephClient = { monHost: lab.monHost, id: 'k8s', keyringPath: '/etc/ceph/ceph.client.k8s.keyring', confPath: '/etc/ceph/ceph.conf', timeoutMs: 10_000 };
    const rbd = await rbdProbe(worker, c, { pool: 'k8s' });
    expect(rbd, JSON.stringify(rbd)).toMatchObject({ status: 'pass', ok: true });
    const q = await quotaProbe(worker, c, { path: '/kubernetes/probe-16mi', mountDir: '/mnt/nw-probe' });
    expect(q, JSON.stringify(q)).toMatchObject({ status: 'pass', ok: true, details: { quotaBytes: 16_777_216, dfSizeBytes: 16_777_216, secondWriteBytes: 0 } });
    expect(q.details.mountDir).toBe(path.join(root, 'mnt/nw-probe'));
    await noLeftovers(path.join(root, 'mnt/nw-probe'));
  });
});

describe('coded failures', () => {
  const wrongKeyring = path.join(work, 'wrong.keyring');
  beforeAll(() => {
    const key = execFileSync('ceph-authtool', ['--gen-print-key'], { encoding: 'utf8' }).trim();
    writeFileSync(wrongKeyring, formatKeyring([{ entity: 'client.k8s', key, caps: {} }]), { mode: 0o600 });
  });

  it('a wrong key gives NW_CEPH_AUTH from both probes, within the limit, nothing left behind', async () => {
    const c = k8s({ keyringPath: wrongKeyring, timeoutMs: 4000 });
    const rbd = await rbdProbe(host, c, { pool: 'k8s' });
    expect(rbd).toMatchObject({ ok: false, status: 'fail', error: { code: 'NW_CEPH_AUTH' } });
    expect(rbd.durationMs).toBeLessThan(4000 + 1500);
    const mountDir = path.join(work, 'mnt-wrongkey');
    const q = await quotaProbe(host, c, { path: '/kubernetes/probe-100m', mountDir });
    expect(q).toMatchObject({ ok: false, error: { code: 'NW_CEPH_AUTH' } });
    await noLeftovers(mountDir);
  });

  it('a missing probe directory is NW_QUOTA naming the fix', async () => {
    const mountDir = path.join(work, 'mnt-missing');
    const q = await quotaProbe(host, k8s(), { path: '/kubernetes/no-such-dir', mountDir });
    expect(q).toMatchObject({ ok: false, status: 'fail', error: { code: 'NW_QUOTA' } });
    expect(q.error?.message).toMatch(/cephfs volume create/);
    await noLeftovers(mountDir);
  });

  it('a malformed keyring is NW_CEPH_KEYRING at the CLI', async () => {
    const bad = path.join(work, 'bad.keyring');
    writeFileSync(bad, '[client.k8s]\n\tkey = not-a-key\n');
    await expect(nodewright('k8s', 'manifests', '--client-keyring', bad, '--mon', lab.monAddr)).rejects.toMatchObject({ code: 'NW_CEPH_KEYRING' });
  });

  it('ceph-fuse aborting on a conf whose run dir is missing is NW_CEPH_FUSE_ABORT, nothing mounted', async () => {
    const conf = path.join(work, 'bad-rundir.conf');
    writeFileSync(conf, `[global]\n\tfsid = ${lab.fsid}\n\tmon host = ${lab.monHost}\n\trun dir = ${work}/no/such/dir\n`);
    const mountDir = path.join(work, 'mnt-abort');
    const q = await quotaProbe(host, k8s({ confPath: conf }), { path: '/kubernetes/probe-100m', mountDir });
    expect(q).toMatchObject({ ok: false, error: { code: 'NW_CEPH_FUSE_ABORT' } });
    await noLeftovers(mountDir);
  });

  it('an OSD that stops answering mid-probe gives NW_CEPH_TIMEOUT; the stuck mount is dropped, nothing left behind', async () => {
    const osdPid = Number(readFileSync(path.join(lab.dir, 'pids/osd.0.pid'), 'utf8'));
    expect(readFileSync(`/proc/${osdPid}/cmdline`, 'utf8')).toContain(lab.dir);
    const mountDir = path.join(work, 'mnt-osd-stall');
    let stopped = false;
    const watcher = setInterval(() => {
      void isMounted(mountDir).then((m) => {
        if (m && !stopped) {
          stopped = true;
          process.kill(osdPid, 'SIGSTOP'); // I/O now blocks in FUSE (D state): only killing ceph-fuse frees it
        }
      });
    }, 10);
    try {
      const t0 = performance.now();
      const q = await quotaProbe(host, k8s({ timeoutMs: 3000 }), { path: '/kubernetes/probe-16mi', mountDir, writeTimeoutMs: 3000 });
      expect(stopped).toBe(true);
      expect(q, JSON.stringify(q)).toMatchObject({ ok: false, error: { code: 'NW_CEPH_TIMEOUT' } });
      expect(performance.now() - t0).toBeLessThan(3000 + 3000 + 3000 + 3000); // mount + one stuck op + grace + cleanup
      await noLeftovers(mountDir);
    } finally {
      clearInterval(watcher);
      process.kill(osdPid, 'SIGCONT');
    }
  });

  // must stay last: it stops the lab's only mon (by its pid); teardown kills the rest
  it('a stopped mon gives NW_CEPH_TIMEOUT within the limit, no hung process, no leftover mount', async () => {
    const limit = 4000;
    expect(readFileSync(`/proc/${lab.monPid}/cmdline`, 'utf8')).toContain(lab.dir);
    process.kill(lab.monPid, 'SIGSTOP'); // hung mon: TCP accepts, nothing answers
    try {
      const t0 = performance.now();
      const rbd = await rbdProbe(host, k8s({ timeoutMs: limit }), { pool: 'k8s' });
      expect(rbd).toMatchObject({ ok: false, error: { code: 'NW_CEPH_TIMEOUT' } });
      expect(performance.now() - t0).toBeLessThan(limit + 1000);
      const mountDir = path.join(work, 'mnt-stopped');
      const t1 = performance.now();
      const q = await quotaProbe(host, k8s({ timeoutMs: limit }), { path: '/kubernetes/probe-100m', mountDir });
      expect(q).toMatchObject({ ok: false, error: { code: 'NW_CEPH_TIMEOUT' } });
      expect(performance.now() - t1).toBeLessThan(limit + 1500);
      await noLeftovers(mountDir);
      expect(existsSync(mountDir)).toBe(false); // the probe removes the mount dir it created
    } finally {
      process.kill(lab.monPid, 'SIGKILL'); // a dead mon for teardown; down.sh skips dead pids
    }
  });
});
