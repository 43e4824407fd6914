// Strategy on the enrolled workers: a closed maintenance window (the rollout waits and says so),
// pause/resume, and failure budget 1 with --on-failure skip (one node whose kubelet build is broken
// is rolled back and skipped; the others complete).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from '../../tmp.js';
import { addKubelet, inWorker, lab, nwJson, waitFor } from './lab.js';

const KEYRING_PATH = '/etc/ceph/ceph.client.k8s.keyring';
const BROKEN_MARK = '/etc/nodewright-lab-kubelet-broken';

function desiredFile(version: string): string {
  const dir = tempDir('nw-e2e-strategy-');
  writeFileSync(path.join(dir, 'keyring'), '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n', { mode: 0o600 });
  const file = path.join(dir, 'desired.yaml');
  writeFileSync(file, stringify({
    runtime: 'rkt',
    packages: { policy: 'auto' },
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyringFile: 'keyring' },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING_PATH, target: KEYRING_PATH }] },
    kubelet: { kind: 'binary', version },
  }));
  return file;
}

/** A kubelet stand-in build that is broken only on a worker carrying BROKEN_MARK. */
function addPerNodeBrokenBuild(version: string): void {
  const f = path.join(lab().share, 'kubelets', `kubelet-${version}`);
  writeFileSync(f, `#!/bin/sh\n# kubelet STAND-IN build ${version} (nodewright lab; broken where ${BROKEN_MARK} exists)\nb=0; [ -e ${BROKEN_MARK} ] && b=1\nKUBELET_STANDIN_VERSION=${version} KUBELET_STANDIN_BROKEN=$b exec /usr/bin/node /opt/nodewright/lab/worker/kubelet-standin.mjs "$@"\n`, { mode: 0o755 });
  addKubelet(version);
}

const status = (id: string) => nwJson('rollout', 'status', id);
const healthy3 = () => waitFor('3 healthy nodes', () => nwJson('nodes', 'ls').every((n: { state: string }) => n.state === 'healthy'), 60_000, 500);

describe('rollout strategy on real systemd workers', () => {
  afterAll(() => {
    for (let i = 0; i < 3; i++) inWorker(i, `rm -f ${BROKEN_MARK}`, true);
  });

  it('a closed maintenance window: the rollout waits, says so in reason, and pushes nothing', async () => {
    await healthy3();
    addKubelet('v2');
    const gens = nwJson('nodes', 'ls').map((n: { generation: number }) => n.generation);
    const h = (new Date().getUTCHours() + 3) % 24;
    const win = `Mon-Sun ${String(h).padStart(2, '0')}:00-${String((h + 1) % 24).padStart(2, '0')}:00 UTC`;
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile('v2'), '--window', win, '--min-healthy', '2s', '--gate-timeout', '60s');
    const s = await waitFor('the rollout waiting', () => { const x = status(r.id); return x.state === 'waiting' && x; }, 20_000, 500);
    expect(s.reason).toMatch(/outside the maintenance windows; the next opens at /);
    expect(s.nodes.every((n: { phase: string }) => n.phase === 'pending')).toBe(true);
    await new Promise((res) => setTimeout(res, 3000));
    expect(nwJson('nodes', 'ls').map((n: { generation: number }) => n.generation)).toEqual(gens);
    expect(nwJson('rollout', 'abort', r.id).state).toBe('aborted');
  });

  it('pause holds the rollout (no new pushes), resume completes it', async () => {
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile('v2'), '--steps', '1,2', '--min-healthy', '2s', '--gate-timeout', '60s');
    expect(nwJson('rollout', 'pause', r.id).state).toBe('paused');
    await new Promise((res) => setTimeout(res, 6000)); // longer than a canary's gate: an in-flight node finishes
    const held = status(r.id);
    expect(held.state).toBe('paused');
    expect(held.nodes.filter((n: { phase: string }) => n.phase === 'pending').length).toBeGreaterThanOrEqual(2);
    await new Promise((res) => setTimeout(res, 2000));
    expect(status(r.id).nodes.map((n: { phase: string }) => n.phase)).toEqual(held.nodes.map((n: { phase: string }) => n.phase));
    expect(nwJson('rollout', 'resume', r.id).state).toMatch(/running|waiting/);
    const done = await waitFor('the resumed rollout completed', () => { const x = status(r.id); return x.state === 'completed' && x; }, 120_000, 1000);
    expect(done.nodes.map((n: { phase: string }) => n.phase)).toEqual(['healthy', 'healthy', 'healthy']);
  });

  it('failure budget 1, --on-failure skip: the bad node is rolled back and skipped, the rest complete', async () => {
    await healthy3();
    addPerNodeBrokenBuild('v4');
    const bad = lab().workers[1];
    inWorker(1, `touch ${BROKEN_MARK}`);
    const before = nwJson('nodes', 'ls').find((n: { name: string }) => n.name === bad.node).generation as number;
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile('v4'), '--failure-budget', '1', '--on-failure', 'skip', '--min-healthy', '2s', '--gate-timeout', '15s');
    const done = await waitFor('the rollout completed past the bad node', () => { const x = status(r.id); return ['completed', 'paused', 'halted'].includes(x.state) && x; }, 180_000, 1000);
    expect(done.state).toBe('completed');
    expect(done.failures).toBe(1);
    const byName = Object.fromEntries(done.nodes.map((n: { name: string }) => [n.name, n]));
    expect(['rolled_back', 'skipped']).toContain(byName[bad.node].phase);
    expect(byName[bad.node].rollbackGeneration).toBeGreaterThan(before);
    for (const w of lab().workers.filter((x) => x.node !== bad.node)) expect(byName[w.node].phase).toBe('healthy');
    const versions = await Promise.all(lab().workers.map(async (w) => (await (await fetch(`http://127.0.0.1:${w.kubeletPort}/record`)).json()).version as string));
    expect(versions).toEqual(lab().workers.map((w) => (w.node === bad.node ? 'v2' : 'v4')));
  });
});
