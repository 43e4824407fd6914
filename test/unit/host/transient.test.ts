// Transient units: the systemd-run argv for waited jobs and started daemons, and the packages
// step's use of them on a systemd-booted worker (fake exec: what would PID 1 be asked to run).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../../host/index.js';
import { NwError } from '../../../host/errors.js';
import type { Exec, ExecResult } from '../../../host/exec.js';
import { startedRunArgs, waitedRunArgs } from '../../../host/transient.js';
import { detectPackageManager, installPackages } from '../../../host/packages.js';
import { tempDir } from '../../tmp.js';

describe('systemd-run argv', () => {
  it('a waited job: --wait --pipe --collect, its unit name, RuntimeMaxSec, properties, env, then the command after --', () => {
    const a = waitedRunArgs('nodewright-pkg-0a1b2c3d', { prefix: 'nodewright-pkg', command: ['apt-get', 'install', '-y', 'ceph-common'], properties: ['ProtectHome=yes'], env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutSec: 900 });
    expect(a.slice(0, 4)).toEqual(['--wait', '--pipe', '--collect', '--quiet']);
    expect(a).toContain('--unit=nodewright-pkg-0a1b2c3d');
    expect(a).toContain('--property=RuntimeMaxSec=900');
    expect(a).toContain('--property=ProtectHome=yes');
    expect(a).toContain('--setenv=DEBIAN_FRONTEND=noninteractive');
    expect(a.slice(a.indexOf('--') + 1)).toEqual(['apt-get', 'install', '-y', 'ceph-common']);
  });
  it('a started daemon: no --wait/--pipe (systemd-run returns when the start job is done), TimeoutStartSec', () => {
    const a = startedRunArgs('nodewright-quota-mount-1', { prefix: 'x', serviceType: 'forking', command: ['ceph-fuse', '-r', '/k'], timeoutSec: 15 });
    expect(a).not.toContain('--wait');
    expect(a).not.toContain('--pipe');
    expect(a).toContain('--service-type=forking');
    expect(a).toContain('--property=TimeoutStartSec=15');
    expect(a.slice(a.indexOf('--') + 1)).toEqual(['ceph-fuse', '-r', '/k']);
  });
});

const ok = (command: string, stdout = ''): ExecResult => ({ command, exitCode: 0, stdout, stderr: '', durationMs: 1 });

function worker(systemd: boolean, fail?: string) {
  const root = tempDir('nw-transient-');
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/bin/apt-get'), '');
  if (systemd) mkdirSync(path.join(root, 'run/systemd/system'), { recursive: true });
  const calls: string[][] = [];
  const exec: Exec = async (file, args) => {
    calls.push([file, ...args]);
    if (fail && args.includes('install')) throw new NwError('NW_EXEC', `systemd-run … exited 100: ${fail}`, { exitCode: 100 });
    return ok(file);
  };
  return { host: createHost({ root, exec }), calls };
}

describe('installPackages', () => {
  it('on a systemd-booted worker: apt-get update, then install, each in its own nodewright-pkg-* transient unit', async () => {
    const { host, calls } = worker(true);
    await installPackages(host, (await detectPackageManager(host))!, ['ceph-common']);
    expect(calls.map((c) => c[0])).toEqual(['systemd-run', 'systemd-run']);
    const [update, install] = calls.map((c) => c.slice(c.indexOf('--') + 1));
    expect(update.slice(0, 2)).toEqual(['apt-get', 'update']);
    expect(install[0]).toBe('apt-get');
    expect(install).toContain('ceph-common');
    for (const c of calls) {
      expect(c.find((a) => a.startsWith('--unit='))).toMatch(/^--unit=nodewright-pkg-[0-9a-f]{8}$/);
      expect(c).toContain('--setenv=DEBIAN_FRONTEND=noninteractive');
      expect(c).toContain('--wait');
    }
  });
  it('the package manager\'s own error ends up in NW_PACKAGES', async () => {
    const { host } = worker(true, 'E: Unable to locate package ceph-commonx');
    const e = await installPackages(host, (await detectPackageManager(host))!, ['ceph-commonx']).catch((x: NwError) => x);
    expect(e).toBeInstanceOf(NwError);
    expect((e as NwError).code).toBe('NW_PACKAGES');
    expect((e as NwError).message).toMatch(/apt could not install ceph-commonx: .*Unable to locate package ceph-commonx/);
  });
  it('without systemd (a sandbox root, a plain chroot) the package manager runs directly', async () => {
    const { host, calls } = worker(false);
    await installPackages(host, (await detectPackageManager(host))!, ['ceph-common']);
    expect(calls.map((c) => c[0])).toEqual(['apt-get', 'apt-get']);
  });
});
