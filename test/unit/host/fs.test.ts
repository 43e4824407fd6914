import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync, writeFileSync, statSync, readdirSync, readFileSync, chownSync, lchownSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RootedFs } from '../../../host/fs.js';
import { NwError } from '../../../host/errors.js';

let root: string;
let fs: RootedFs;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'nw-fs-'));
  fs = new RootedFs(root, '/var/lib/nodewright', 3);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return (e as NwError).code;
  }
  return 'no error';
};

describe('RootedFs.resolve', () => {
  it('maps worker paths under the root', () => {
    expect(fs.resolve('/etc/ceph/ceph.conf')).toBe(path.join(root, 'etc/ceph/ceph.conf'));
    expect(fs.resolve('/etc/./ceph/../ceph/x')).toBe(path.join(root, 'etc/ceph/x'));
  });
  it('refuses .. that climbs above the root', () => {
    expect(() => fs.resolve('/../etc/passwd')).toThrow(/climbs above the root/);
    expect(() => fs.resolve('/etc/../../x')).toThrowError(NwError);
  });
  it('refuses a symlink whose absolute target leaves the root', async () => {
    mkdirSync(path.join(root, 'etc'));
    symlinkSync('/usr', path.join(root, 'etc/escape'));
    expect(await code(fs.readText('/etc/escape/lib/os-release'))).toBe('NW_PATH_ESCAPE');
    expect(await code(fs.writeAtomic('/etc/escape/new', 'x'))).toBe('NW_PATH_ESCAPE');
  });
  it('refuses a relative symlink that climbs out of the root', async () => {
    symlinkSync('../..', path.join(root, 'up'));
    expect(await code(fs.readText('/up/etc/passwd'))).toBe('NW_PATH_ESCAPE');
  });
  it('follows symlinks that stay inside the root', async () => {
    mkdirSync(path.join(root, 'real'));
    writeFileSync(path.join(root, 'real/f'), 'ok');
    symlinkSync('real', path.join(root, 'link'));
    expect(await fs.readText('/link/f')).toBe('ok');
  });
});

describe('RootedFs: symlinks someone other than root could have planted (also at root /)', () => {
  const NOBODY = 65534;
  /** dir/ceph owned by nobody, holding keyring → secret (a link nobody made). */
  const planted = (base: string) => {
    writeFileSync(path.join(base, 'secret'), 'root only', { mode: 0o600 });
    mkdirSync(path.join(base, 'ceph'));
    chownSync(path.join(base, 'ceph'), NOBODY, NOBODY);
    symlinkSync(path.join(base, 'secret'), path.join(base, 'ceph/keyring'));
    lchownSync(path.join(base, 'ceph/keyring'), NOBODY, NOBODY);
  };
  it('at root /: neither read nor write follows the planted link; the target is untouched', async () => {
    const slash = new RootedFs('/', path.join(root, 'state'));
    planted(root);
    const keyring = path.join(root, 'ceph/keyring');
    expect(await code(slash.readText(keyring))).toBe('NW_PATH_ESCAPE');
    expect(await code(slash.writeAtomic(keyring, '[client.k8s]'))).toBe('NW_PATH_ESCAPE');
    expect(readFileSync(path.join(root, 'secret'), 'utf8')).toBe('root only');
  });
  it('in a sandbox root too (the link stays inside the root)', async () => {
    mkdirSync(path.join(root, 'etc'));
    planted(path.join(root, 'etc'));
    expect(await code(fs.readText('/etc/ceph/keyring'))).toBe('NW_PATH_ESCAPE');
  });
  it('at root /: a root-owned link in a root-owned dir is followed; in a world-writable dir only with the sticky bit', async () => {
    const slash = new RootedFs('/', path.join(root, 'state'));
    writeFileSync(path.join(root, 'f'), 'ok');
    mkdirSync(path.join(root, 'd'));
    symlinkSync(path.join(root, 'f'), path.join(root, 'd/link'));
    expect(await slash.readText(path.join(root, 'd/link'))).toBe('ok');
    chmodSync(path.join(root, 'd'), 0o777);
    expect(await code(slash.readText(path.join(root, 'd/link')))).toBe('NW_PATH_ESCAPE');
    chmodSync(path.join(root, 'd'), 0o1777);
    expect(await slash.readText(path.join(root, 'd/link'))).toBe('ok');
  });
  it('a symlink loop is a coded error', async () => {
    symlinkSync('b', path.join(root, 'a'));
    symlinkSync('a', path.join(root, 'b'));
    expect(await code(fs.readText('/a/x'))).toBe('NW_PATH_ESCAPE');
  });
});

describe('RootedFs.writeAtomic', () => {
  it('creates files with the requested mode and no temp files left', async () => {
    await fs.writeAtomic('/etc/ceph/ceph.client.k8s.keyring', 'secret', { mode: 0o600 });
    const real = path.join(root, 'etc/ceph/ceph.client.k8s.keyring');
    expect(readFileSync(real, 'utf8')).toBe('secret');
    expect(statSync(real).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(real))).toEqual(['ceph.client.k8s.keyring']);
  });
  it('keeps the previous mode and backs up what it replaces, keeping the last N', async () => {
    await fs.writeAtomic('/etc/kubelet.env', 'v0', { mode: 0o640 });
    for (let i = 1; i <= 5; i++) await fs.writeAtomic('/etc/kubelet.env', `v${i}`);
    expect(statSync(path.join(root, 'etc/kubelet.env')).mode & 0o777).toBe(0o640);
    const backups = await fs.backups('/etc/kubelet.env');
    expect(backups).toHaveLength(3);
    expect(readFileSync(backups[2].file, 'utf8')).toBe('v4');
    await fs.restore(backups[2]);
    expect(await fs.readText('/etc/kubelet.env')).toBe('v4');
  });
  it('leaves the target untouched when the write fails', async () => {
    await fs.writeAtomic('/etc/a', 'original');
    // a directory in the way of the rename makes it fail
    mkdirSync(path.join(root, 'etc/dir'));
    writeFileSync(path.join(root, 'etc/dir/x'), '');
    expect(await code(fs.writeAtomic('/etc/dir', 'x', { backup: false }))).toBe('NW_FS');
    expect(readdirSync(path.join(root, 'etc')).sort()).toEqual(['a', 'dir']);
    expect(await fs.readText('/etc/a')).toBe('original');
  });
  it('reports a missing file as a coded error, or null when asked', async () => {
    expect(await code(fs.readText('/nope'))).toBe('NW_FS');
    expect(await fs.readTextIfExists('/nope')).toBeNull();
  });
});
