// The unit step's plan over the real unit editor, on the seed-shaped kubelet.service.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { planUnit } from '../../../agent/steps/unit.js';
import { missingExpectations } from '../../../agent/unit-changes.js';
import type { DesiredState } from '../../../protocol/desired.js';

const seed = readFileSync('lab/worker/kubelet.service.in', 'utf8').replace('@KUBELET_PORT@', '10248');
const KR = '/etc/ceph/ceph.client.k8s.keyring';
const d = { schema: 1, generation: 1, unit: { bindMounts: [{ name: 'ceph-keyring', source: KR, target: KR }] } } as DesiredState;
const sources = (text: string) => ({ main: { path: '/etc/systemd/system/kubelet.service', text }, dropIns: [] });

describe('unit plan', () => {
  test('adds the pair to RKT_RUN_ARGS in place, with a diff', async () => {
    const p = (await planUnit({ sources: sources(seed), effective: null }, d))!;
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0].after).toContain(`  --mount volume=ceph-keyring,target=${KR}"`);
    expect(p.diff).toContain(`+  --volume ceph-keyring,kind=host,source=${KR} \\`);
    expect(p.expect[0].variable).toBe('RKT_RUN_ARGS');
    expect(p.expect[0].value).toContain(`--mount volume=ceph-keyring,target=${KR}`);
    // Applying the plan converges it.
    expect(await planUnit({ sources: sources(p.changes[0].after), effective: null }, d)).toBeNull();
  });
  test('files converged but PID 1 still has the old environment → reload-only plan', async () => {
    const after = (await planUnit({ sources: sources(seed), effective: null }, d))!;
    const eff = { env: { RKT_RUN_ARGS: '--volume modprobe,kind=host,source=/usr/sbin/modprobe' }, needReload: true };
    const p = (await planUnit({ sources: sources(after.changes[0].after), effective: eff }, d))!;
    expect(p.reloadOnly).toBe(true);
    expect(p.summary[0]).toMatch(/NeedDaemonReload=yes/);
  });
  test('read-back comparison ignores the continuation whitespace systemd keeps', () => {
    const exp = [{ variable: 'RKT_RUN_ARGS',  value: ' --volume a,kind=host,source=/a  --mount volume=a,target=/b' }];
    expect(missingExpectations({ env: { RKT_RUN_ARGS: '    --volume a,kind=host,source=/a    --mount volume=a,target=/b' }, needReload: false }, exp)).toEqual([]);
    expect(missingExpectations({ env: {}, needReload: false }, exp)).toEqual(['RKT_RUN_ARGS is not set']);
  });
});

describe('kubelet image plan (rkt hosts)', () => {
  test('rewrites KUBELET_IMAGE_TAG where it is defined; converged afterwards; rejected tags are held', async () => {
    const { planImage } = await import('../../../agent/steps/artifact.js');
    const a = { kind: 'image' as const, version: 'v1.10.4-nw1', tag: 'v1.10.4_nw.1' };
    const kubelet = { current: null, lastGood: null, rejected: {} };
    const p = (await planImage({ kind: 'image', sources: sources(seed), kubelet }, a, 'kubelet.service')) as any;
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0].after).toContain('Environment=KUBELET_IMAGE_TAG=v1.10.4_nw.1');
    expect(p.changes[0].after).not.toContain('v1.7.10');
    expect(p.expect).toEqual([{ variable: 'KUBELET_IMAGE_TAG', value: 'v1.10.4_nw.1' }]);
    expect(await planImage({ kind: 'image', sources: sources(p.changes[0].after), kubelet }, a, 'kubelet.service')).toBeNull();
    const held = await planImage(
      { kind: 'image', sources: sources(seed), kubelet: { ...kubelet, rejected: { [p.install.sha256]: { version: a.version, reason: 'healthz 500', at: '' } } } },
      a,
      'kubelet.service',
    );
    expect(held).toMatchObject({ hold: true, state: 'rolled_back' });
  });
});
