// packages step: the real package database of this host (apt/dpkg) behind a sandbox root that
// says which manager exists; a host without a known manager gets NW_PACKAGES, not a crash.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { createHost } from '../../../host/index.js';
import { detectPackageManager, isInstalled } from '../../../host/packages.js';
import { parseAgentConfig } from '../../../agent/config.js';
import { StateStore } from '../../../agent/state.js';
import { reconcileOnce } from '../../../agent/reconcile.js';
import type { DesiredState } from '../../../protocol/desired.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sandbox = (withApt: boolean) => {
  const dir = mkdtempSync('/tmp/nw-pkg-it-');
  dirs.push(dir);
  if (withApt) {
    mkdirSync(path.join(dir, 'usr/bin'), { recursive: true });
    writeFileSync(path.join(dir, 'usr/bin/apt-get'), '');
  }
  const host = createHost({ root: dir });
  const config = parseAgentConfig(`root: ${dir}\n`, 'test.yaml');
  return { host, ctx: { host, config, state: new StateStore(host), log: pino({ level: 'silent' }), publicKey: null } };
};
const native = (names?: string[]): DesiredState => ({ schema: 1, generation: 1, runtime: 'native', packages: { policy: 'auto', ...(names ? { names } : {}) } });

describe('packages step', () => {
  test('apt host: ceph-common (installed by lab/install-deps.sh) is converged', async () => {
    const { host, ctx } = sandbox(true);
    const pm = await detectPackageManager(host);
    expect(pm?.name).toBe('apt');
    if (!(await isInstalled(host, pm!, 'ceph-common'))) throw new Error('ceph-common is not installed on this host: run lab/install-deps.sh');
    const r = await reconcileOnce(ctx, native(), 'test');
    expect(r.steps[0]).toMatchObject({ name: 'packages', state: 'converged' });
  });
  test('no known package manager and a missing package → NW_PACKAGES with what to do', async () => {
    const { ctx } = sandbox(false);
    const r = await reconcileOnce(ctx, native(['nodewright-no-such-package']), 'test');
    expect(r.steps[0].state).toBe('failed');
    expect(r.steps[0].error?.code).toBe('NW_PACKAGES');
    expect(r.steps[0].message).toMatch(/no known package manager.*packages.policy to "skip"/);
  });
  test('rkt hosts and policy skip do not touch packages', async () => {
    const { ctx } = sandbox(false);
    expect((await reconcileOnce(ctx, { schema: 1, generation: 1 }, 't')).steps[0]).toMatchObject({ state: 'skipped' });
    expect((await reconcileOnce(ctx, { ...native(), packages: { policy: 'skip' } }, 't')).steps[0].message).toBe('packages.policy is skip');
  });
});
