import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync, writeFileSync, statSync, readdirSync, readFileSync } from 'node:fs';
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
