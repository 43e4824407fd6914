// ceph-fuse through a transient unit (fake exec: what PID 1 is asked, and how its answer is read):
// the mount unit's narrow properties, the failure read back from its output files and exit status
// into the same coded errors as a direct run, and the failed unit forgotten.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../../host/index.js';
import { NwError } from '../../../host/errors.js';
import type { Exec } from '../../../host/exec.js';
import { fuseMount } from '../../../ceph/fuse.js';
import { tempDir } from '../../tmp.js';

function pid1(show: string, stderr: string) {
  const workDir = tempDir('nw-fuse-unit-');
  const calls: string[][] = [];
  const exec: Exec = async (file, args) => {
    calls.push([file, ...args]);
    if (file === 'systemd-run') {
      writeFileSync(path.join(workDir, 'ceph-fuse.stderr'), stderr);
      return { command: file, exitCode: 1, stdout: '', stderr: 'Job for nodewright-quota-mount-x.service failed.', durationMs: 1 };
    }
    return { command: file, exitCode: 0, stdout: args[0] === 'show' ? show : '', stderr: '', durationMs: 1 };
  };
  return { host: createHost({ exec }), calls, workDir };
}

const mount = (host: ReturnType<typeof createHost>, workDir: string) =>
  fuseMount(host, { monHost: '127.0.0.1:3300', id: 'k8s', keyringPath: '/etc/ceph/ceph.client.k8s.keyring' }, { path: '/kubernetes/v', mountDir: path.join(workDir, 'mnt'), workDir, timeoutMs: 5_000, version: { major: 16, minor: 2, patch: 15 }, transient: true }).then(
    () => null,
    (e: NwError) => e,
  );

describe('fuseMount in a transient unit', () => {
  it('asks PID 1 for a forking ceph-fuse unit with only CAP_SYS_ADMIN and /dev/fuse, output to the work dir', async () => {
    const { host, calls, workDir } = pid1('ActiveState=failed\nResult=exit-code\nExecMainStatus=1\nExecMainCode=exited\n', '2026-12-01T22:00:00.000+0000 7f 0 monclient(hunting): handle_auth_bad_method server allowed_methods [2] but i only support [2]\n');
    await mount(host, workDir);
    const run = calls.find((c) => c[0] === 'systemd-run')!;
    expect(run).toContain('--service-type=forking');
    expect(run.find((a) => a.startsWith('--unit='))).toMatch(/^--unit=nodewright-quota-mount-[0-9a-f]{8}$/);
    for (const p of ['CapabilityBoundingSet=CAP_SYS_ADMIN', 'DevicePolicy=closed', 'DeviceAllow=/dev/fuse rw', 'NoNewPrivileges=yes', 'TimeoutStartSec=5']) expect(run).toContain(`--property=${p}`);
    expect(run).toContain(`--property=StandardError=file:${workDir}/ceph-fuse.stderr`);
    // no namespace of its own: the mount must land in the worker's
    expect(run.filter((a) => /Protect(System|Home)|PrivateTmp|PrivateMounts/.test(a))).toEqual([]);
    expect(run.slice(run.indexOf('--') + 1)[0]).toBe('ceph-fuse');
    expect(run.join(' ')).not.toMatch(/AQ[A-Za-z0-9+/]{20,}/);
  });
  it('a refused key is NW_CEPH_AUTH from the unit\'s stderr file; the failed unit is reset', async () => {
    const { host, calls, workDir } = pid1('ActiveState=failed\nResult=exit-code\nExecMainStatus=1\nExecMainCode=exited\n', 'monclient(hunting): handle_auth_bad_method server allowed_methods [2] but i only support [2]\nceph-fuse[1]: ceph mount failed with (1) Operation not permitted\n');
    const e = await mount(host, workDir);
    expect(e?.code).toBe('NW_CEPH_AUTH');
    expect(calls.some((c) => c[0] === 'systemctl' && c[1] === 'reset-failed')).toBe(true);
  });
  it('ceph-fuse killed by SIGABRT (signal 6) in the unit is NW_CEPH_FUSE_ABORT', async () => {
    const { host, workDir } = pid1('ActiveState=failed\nResult=core-dump\nExecMainStatus=6\nExecMainCode=dumped\n', 'unable to create run dir\n');
    expect((await mount(host, workDir))?.code).toBe('NW_CEPH_FUSE_ABORT');
  });
  it('PID 1 giving up at TimeoutStartSec is NW_CEPH_TIMEOUT', async () => {
    const { host, workDir } = pid1('ActiveState=failed\nResult=timeout\nExecMainStatus=0\nExecMainCode=killed\n', '');
    expect((await mount(host, workDir))?.code).toBe('NW_CEPH_TIMEOUT');
  });
});
