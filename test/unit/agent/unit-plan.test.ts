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
