import { describe, expect, it } from 'vitest';
import { needsClientQuotaFlag, parseCephVersion } from '../../../ceph/version.js';
import { classifyCephFailure } from '../../../ceph/failure.js';
import { cephTimeoutArgs, clientArgs } from '../../../ceph/client.js';
import { fuseArgs } from '../../../ceph/fuse.js';

describe('ceph version', () => {
  it('reads ceph-fuse --version and knows when --client-quota is needed', () => {
    const v = parseCephVersion('ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)\n');
    expect(v).toMatchObject({ major: 16, minor: 2, patch: 15, codename: 'pacific' });
    expect(needsClientQuotaFlag(v)).toBe(false);
    expect(needsClientQuotaFlag(parseCephVersion('ceph version 10.2.11 (e4b061b47f07f583c92a050d9e84b1813a35671e)'))).toBe(true);
    expect(needsClientQuotaFlag(parseCephVersion('ceph version 12.2.13 (584a20eb0237c657dc0567da126be145106aa47e) luminous (stable)'))).toBe(false);
    expect(() => parseCephVersion('bash: ceph-fuse: command not found')).toThrow(/cannot read a ceph version/);
  });
});

describe('client argv', () => {
  const c = { monHost: '127.0.0.1:23300', id: 'client.k8s', keyringPath: '/etc/ceph/ceph.client.k8s.keyring' };
  it('names the keyring file, never a key, and defaults to -c /dev/null', () => {
    expect(clientArgs(c)).toEqual(['-c', '/dev/null', '-m', '127.0.0.1:23300', '--id', 'k8s', '--keyring', '/etc/ceph/ceph.client.k8s.keyring']);
    expect(clientArgs(c).join(' ')).not.toMatch(/--key[ =]|secret/);
  });
  it('sets ceph timeouts below the process timeout', () => {
    expect(cephTimeoutArgs(5000)[0]).toBe('--client_mount_timeout=4');
    expect(cephTimeoutArgs(100)[0]).toBe('--client_mount_timeout=1');
  });
  it('builds the seed kubelet-fix ceph-fuse argv, --client-quota only before Luminous', () => {
    const base = { path: '/k8s_test', mountDir: '/mnt/x', workDir: '/tmp/w', timeoutMs: 10_000 };
    const pacific = fuseArgs(c, { ...base, version: parseCephVersion('ceph version 16.2.15 (x) pacific') });
    expect(pacific.slice(0, 11)).toEqual(['-c', '/dev/null', '-k', '/etc/ceph/ceph.client.k8s.keyring', '--id', 'k8s', '-m', '127.0.0.1:23300', '-r', '/k8s_test', '/mnt/x']);
    expect(pacific).not.toContain('--client-quota');
    expect(pacific).toContain('--run-dir=/tmp/w');
    expect(fuseArgs(c, { ...base, version: parseCephVersion('ceph version 10.2.11 (x) jewel') })).toContain('--client-quota');
    expect(fuseArgs({ ...c, confPath: '/etc/ceph/ceph.conf' }, { ...base, version: parseCephVersion('ceph version 16.2.15 (x)') }).some((a) => a.startsWith('--run-dir'))).toBe(false);
  });
});

describe('failure classification (stderr seen on this lab)', () => {
  const run = (exitCode: number, stderr: string, signal?: string) => classifyCephFailure('probe', { exitCode, stderr, signal }).code;
  it('maps a wrong key to NW_CEPH_AUTH', () => {
    expect(run(110, '2026-11-26T01:29:49.930+0000 7f8de3fff6c0 -1 monclient(hunting): handle_auth_bad_method server allowed_methods [] but i only support [2,1]\nrbd: couldn\'t connect to the cluster!\n')).toBe('NW_CEPH_AUTH');
    expect(run(1, 'rbd: listing images failed: (1) Operation not permitted')).toBe('NW_CEPH_AUTH');
  });
  it('maps an unreachable mon to NW_CEPH_TIMEOUT', () => {
    expect(run(110, '2026-11-26T01:29:58.022+0000 7fd7146db380  0 monclient(hunting): authenticate timed out after 3\nrbd: couldn\'t connect to the cluster!\n')).toBe('NW_CEPH_TIMEOUT');
    expect(run(1, 'failed to fetch mon config (--no-mon-config to skip)')).toBe('NW_CEPH_TIMEOUT');
  });
  it('maps SIGABRT / exit 134 to NW_CEPH_FUSE_ABORT', () => {
    const e = classifyCephFailure('mount', { exitCode: 134, stderr: "warning: unable to create /nonexistent/xNo such file or directory\nterminate called after throwing an instance of 'std::filesystem::__cxx11::filesystem_error'\n*** Caught signal (Aborted) **\n" });
    expect(e.code).toBe('NW_CEPH_FUSE_ABORT');
    expect(e.message).toMatch(/run dir/);
    expect(run(-1, '', 'SIGABRT')).toBe('NW_CEPH_FUSE_ABORT');
  });
  it('maps an unreadable keyring to NW_CEPH_KEYRING, anything else to NW_CEPH', () => {
    expect(run(5, 'auth: error parsing file /k: error setting modifier for [client.k8s] type=key val=x: Malformed input')).toBe('NW_CEPH_KEYRING');
    expect(run(1, 'ceph-fuse[1]: ceph mount failed with (2) No such file or directory')).toBe('NW_CEPH');
  });
});
