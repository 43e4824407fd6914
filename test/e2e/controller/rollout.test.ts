// Rollouts over the three enrolled workers: keyring + unit bind mount + kubelet v2 with steps
// [1, 2] → completed (watched as plain lines); a broken v3: the canary fails its gate, is rolled
// back automatically to v2 under a new generation, the rollout pauses with the reason and the two
// others are untouched; abort → aborted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from '../../tmp.js';
import { addKubelet, lab, nw, nwJson, waitFor } from './lab.js';

const KEYRING_PATH = '/etc/ceph/ceph.client.k8s.keyring';
const KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';

function desiredFile(build: 'v2' | 'v3-broken'): string {
  const dir = tempDir('nw-e2e-rollout-');
  writeFileSync(path.join(dir, 'keyring'), KEYRING, { mode: 0o600 });
  addKubelet(build);
  const desired = {
    runtime: 'rkt',
    packages: { policy: 'auto' },
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyringFile: 'keyring' },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING_PATH, target: KEYRING_PATH }] },
    kubelet: { kind: 'binary', version: build }, // sha256, size, url and signature come from the artifact store
  };
  const file = path.join(dir, 'desired.yaml');
  writeFileSync(file, stringify(desired));
  return file;
}

const kubeletVersion = async (i: number) => (await (await fetch(`http://127.0.0.1:${lab().workers[i].kubeletPort}/record`)).json()).version as string;
const generations = () => Object.fromEntries(nwJson('nodes', 'ls').map((n: { name: string; generation: number | null }) => [n.name, n.generation]));

describe('rollouts on real systemd workers', () => {
  let gensAfterV2: Record<string, number>;

  it('keyring + unit + kubelet v2 with steps [1, 2] completes; status --watch prints plain lines', async () => {
    await waitFor('3 healthy nodes', () => nwJson('nodes', 'ls').every((n: { state: string }) => n.state === 'healthy'));
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile('v2'), '--steps', '1,2', '--min-healthy', '3s', '--gate-timeout', '60s');
    expect(r.id).toMatch(/^r-/);
    expect(r.waveCount).toBe(2);
    const watch = nw('rollout', 'status', r.id, '--watch');
    expect(watch).toMatch(new RegExp(`^${r.id} completed`, 'm'));
    expect(watch).not.toMatch(/\x1b\[/); // not a TTY: no live view
    const s = nwJson('rollout', 'status', r.id);
    expect(s.state).toBe('completed');
    expect(s.nodes.map((n: { phase: string }) => n.phase)).toEqual(['healthy', 'healthy', 'healthy']);
    for (let i = 0; i < 3; i++) expect(await kubeletVersion(i)).toBe('v2');
    gensAfterV2 = generations();
    expect(Object.values(gensAfterV2).every((g) => typeof g === 'number' && g >= 1)).toBe(true);
    expect(nwJson('rollout', 'ls')).toEqual(expect.arrayContaining([expect.objectContaining({ id: r.id, state: 'completed', done: 3, nodes: 3 })])); // other files' rollouts may be listed too
  });

  it('a broken v3: the canary fails its gate, is rolled back to v2, the rollout pauses with the reason; the others are untouched; abort', async () => {
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile('v3-broken'), '--steps', '1,2', '--min-healthy', '3s', '--gate-timeout', '20s');
    const paused = await waitFor('the rollout paused after the canary', () => {
      const s = nwJson('rollout', 'status', r.id);
      return s.state === 'paused' && s.nodes[0].phase === 'rolled_back' && s;
    }, 120_000, 1000);
    expect(paused.reason).toMatch(/\S/);
    const canary = paused.nodes[0];
    expect(canary.rollbackGeneration).toBeGreaterThan(canary.targetGeneration);
    const others = paused.nodes.slice(1);
    expect(others.map((n: { phase: string }) => n.phase)).toEqual(['pending', 'pending']);
    const gens = generations();
    expect(gens[canary.name]).toBe(canary.rollbackGeneration);
    for (const n of others) expect(gens[n.name]).toBe(gensAfterV2[n.name]);
    const canaryIdx = lab().workers.findIndex((w) => w.node === canary.name);
    for (let i = 0; i < 3; i++) expect(await kubeletVersion(i)).toBe('v2');
    expect(canaryIdx).toBeGreaterThanOrEqual(0);
    const kinds = nw('events', '--json').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds).toEqual(expect.arrayContaining(['rollout.created', 'rollout.node.rolling_back', 'rollout.node.rolled_back', 'rollout.paused']));

    const aborted = nwJson('rollout', 'abort', r.id);
    expect(aborted.state).toBe('aborted');
    expect(nwJson('rollout', 'status', r.id).state).toBe('aborted');
    expect(generations()).toEqual(gens);
  });
});
