// Pure planners: keyring/ceph.conf, packages, kubelet binary (incl. after a rollback).
import { describe, expect, test } from 'vitest';
import { desiredCephFiles, minimalCephConf, planKeyring, keyringStep } from '../../../agent/steps/keyring.js';
import { planPackages } from '../../../agent/steps/packages.js';
import { planBinary, type BinaryObserved } from '../../../agent/steps/artifact.js';
import { redactSecrets } from '../../../agent/render.js';
import type { BinaryArtifact, CephDesired, DesiredState } from '../../../protocol/desired.js';

const KEY = 'AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==';
const ceph: CephDesired = { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['10.32.3.70:6789', '10.32.3.71:6789'], clientId: 'k8s', keyring: `[client.k8s]\n\tkey = ${KEY}` };

describe('keyring + ceph.conf plan', () => {
  const files = desiredCephFiles(ceph);
  const observedAll = () => files.map((f) => ({ path: f.path, content: f.content, mode: f.mode }));
  test('paths, modes and a minimal ceph.conf (no run dir: ceph-fuse aborts on a missing one)', () => {
    expect(files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['/etc/ceph/ceph.client.k8s.keyring', '600'],
      ['/etc/ceph/ceph.conf', '644'],
    ]);
    expect(minimalCephConf(ceph)).toContain('mon host = 10.32.3.70:6789,10.32.3.71:6789');
    expect(minimalCephConf(ceph)).not.toMatch(/run dir/);
  });
  test('converged → null; missing, different content, wrong mode → write', () => {
    expect(planKeyring(observedAll(), ceph)).toBeNull();
    const missing = planKeyring([{ path: files[0].path, content: null, mode: null }, observedAll()[1]], ceph)!;
    expect(missing.writes.map((w) => [w.path, w.reason])).toEqual([['/etc/ceph/ceph.client.k8s.keyring', 'missing']]);
    const drifted = planKeyring([observedAll()[0], { ...observedAll()[1], content: 'x' }], ceph)!;
    expect(drifted.writes[0].reason).toBe('content differs');
    const mode = planKeyring([{ ...observedAll()[0], mode: 0o644 }, observedAll()[1]], ceph)!;
    expect(mode.writes[0].reason).toMatch(/mode 644/);
  });
  test('the printable plan never shows the key', () => {
    const p = planKeyring([], ceph)!;
    const text = keyringStep.render(p);
    expect(text).toContain('+\tkey = <redacted>');
    expect(text).not.toContain(KEY);
    expect(redactSecrets(`[client.x]\n key=${KEY}\n`)).not.toContain(KEY);
  });
});

describe('packages plan', () => {
  const d = { schema: 1, generation: 1, runtime: 'native' } as DesiredState;
  test('installed → null; missing → install with the detected manager', () => {
    expect(planPackages({ manager: 'apt', installed: { 'ceph-common': true } }, d)).toBeNull();
    expect(planPackages({ manager: 'dnf', installed: { 'ceph-common': false } }, d)).toEqual({ manager: 'dnf', install: ['ceph-common'] });
  });
  test('no known package manager → NW_PACKAGES telling what to do', () => {
    expect(() => planPackages({ manager: null, installed: {} }, d)).toThrow(/no known package manager.*packages.policy/);
  });
});

describe('kubelet binary plan', () => {
  const v1 = { version: 'v1', sha256: '1'.repeat(64) };
  const v2 = { version: 'v2', sha256: '2'.repeat(64) };
  const v3 = { version: 'v3', sha256: '3'.repeat(64) };
  const art = (r: { version: string; sha256: string }): BinaryArtifact => ({ kind: 'binary', ...r, size: 100, url: 'https://a/kubelet' });
  const obs = (o: Partial<BinaryObserved>): BinaryObserved => ({
    kind: 'binary',
    target: '/usr/local/bin/kubelet',
    currentSha: v1.sha256,
    kubelet: { current: v1, lastGood: v1, rejected: {} },
    cached: {},
    ...o,
  });
  test('converged when the target already has the desired sha256', () => {
    expect(planBinary(obs({ currentSha: v2.sha256 }), art(v2), 'kubelet.service')).toBeNull();
  });
  test('a new version: fetch from the URL, keep the current one as previous', () => {
    const p = planBinary(obs({}), art(v2), 'kubelet.service') as any;
    expect(p).toMatchObject({ install: v2, source: 'https://a/kubelet', fromCache: false, previous: v1, restoring: false });
  });
  test('an unknown current binary is still kept as previous', () => {
    const p = planBinary(obs({ currentSha: 'f'.repeat(64), kubelet: { current: null, lastGood: null, rejected: {} } }), art(v2), 'k') as any;
    expect(p.previous).toEqual({ version: 'unknown', sha256: 'f'.repeat(64) });
  });
  test('a rejected (rolled back) version is held, not retried', () => {
    const rejected = { [v3.sha256]: { version: 'v3', reason: 'healthz 500', at: '' } };
    const p = planBinary(obs({ currentSha: v2.sha256, kubelet: { current: v2, lastGood: v2, rejected } }), art(v3), 'k');
    expect(p).toEqual({ hold: true, state: 'rolled_back', message: 'kubelet v3 was rolled back: healthz 500' });
  });
  test('drift while a version is rejected restores the last good one from the cache', () => {
    const rejected = { [v3.sha256]: { version: 'v3', reason: 'healthz 500', at: '' } };
    const p = planBinary(obs({ currentSha: v1.sha256, kubelet: { current: v2, lastGood: v2, rejected }, cached: { [v2.sha256]: true } }), art(v3), 'k') as any;
    expect(p).toMatchObject({ install: v2, source: 'cache', fromCache: true, restoring: true });
  });
  test('a rejection holds at its generation and older ones; a newer generation retries the artifact', () => {
    const rejected = { [v3.sha256]: { version: 'v3', reason: 'healthz 500', at: 't', generation: 5, rolledBack: true } };
    const o = obs({ currentSha: v2.sha256, kubelet: { current: v2, lastGood: v2, rejected } });
    expect(planBinary(o, art(v3), 'k', 5)).toMatchObject({ hold: true, state: 'rolled_back' });
    expect(planBinary(o, art(v3), 'k', 6)).toMatchObject({ kind: 'binary', install: v3, source: 'https://a/kubelet', restoring: false });
  });
  test('a rejection that rolled nothing back holds as failed with a coded error; a retry of bytes in place re-gates them', () => {
    const rejected = { [v3.sha256]: { version: 'v3', reason: 'healthz 500', at: 't', generation: 5, rolledBack: false } };
    const o = obs({ currentSha: v3.sha256, kubelet: { current: v3, lastGood: null, rejected } });
    const held = planBinary(o, art(v3), 'k', 5) as any;
    expect(held).toMatchObject({ hold: true, state: 'failed', error: 'NW_HEALTH' });
    expect(held.message).toMatch(/nothing healthy could be put back: healthz 500; .*retry=artifact/);
    expect(planBinary(o, art(v3), 'k', 6)).toMatchObject({ kind: 'binary', install: v3, regate: true });
  });
});
