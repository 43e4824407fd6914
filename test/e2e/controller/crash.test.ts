// kill -9 the controller between a push and its gate → start it again → the same rollout
// completes, and every agent accepted its target generation exactly once (counted in the agents'
// journals: "accepted a signed desired state" is logged only when a bundle changes what they hold).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from '../../tmp.js';
import { addKubelet, inWorker, lab, nwJson, waitFor } from './lab.js';
import { startController } from './setup.js';

const KEYRING_PATH = '/etc/ceph/ceph.client.k8s.keyring';

function desiredFile(): string {
  const dir = tempDir('nw-e2e-crash-');
  writeFileSync(path.join(dir, 'keyring'), '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n', { mode: 0o600 });
  addKubelet('v2');
  const file = path.join(dir, 'desired.yaml');
  writeFileSync(file, stringify({
    runtime: 'rkt',
    packages: { policy: 'auto' },
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyringFile: 'keyring' },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING_PATH, target: KEYRING_PATH, readOnly: true }] },
    kubelet: { kind: 'binary', version: 'v2' },
  }));
  return file;
}

const acceptances = (i: number, generation: number) =>
  inWorker(i, 'journalctl -u nodewright-agent -o cat --no-pager').split('\n').filter((l) => l.includes('accepted a signed desired state') && l.includes(`"generation":${generation},`)).length;

describe('crash resume', () => {
  it('kill -9 between a push and its gate: the restarted controller completes the rollout, each node accepted its target once', async () => {
    await waitFor('3 healthy nodes', () => nwJson('nodes', 'ls').every((n: { state: string }) => n.state === 'healthy'), 60_000);
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desiredFile(), '--steps', '1,2', '--min-healthy', '4s', '--gate-timeout', '90s');
    await waitFor('the canary pushed and gating', () => nwJson('rollout', 'status', r.id).nodes[0].phase === 'gating', 60_000, 100);
    const pidFile = path.join(lab().share, 'controller.pid');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const t0 = Date.now();
    const child = await startController(lab().dir, lab().port, lab().controllerLog);
    writeFileSync(pidFile, String(child.pid));
    process.stderr.write(`crash resume: controller ready ${Date.now() - t0} ms after restart\n`);
    const done = await waitFor('the rollout completed after the restart', () => {
      const s = nwJson('rollout', 'status', r.id);
      return s.state === 'completed' && s;
    }, 120_000, 500);
    expect(done.nodes.map((n: { phase: string }) => n.phase)).toEqual(['healthy', 'healthy', 'healthy']);
    for (const n of done.nodes as { name: string; targetGeneration: number }[]) {
      const i = lab().workers.findIndex((w) => w.node === n.name);
      expect({ node: n.name, accepted: acceptances(i, n.targetGeneration) }).toEqual({ node: n.name, accepted: 1 });
    }
    const gens = Object.fromEntries(nwJson('nodes', 'ls').map((n: { name: string; generation: number }) => [n.name, n.generation]));
    for (const n of done.nodes as { name: string; targetGeneration: number }[]) expect(gens[n.name]).toBe(n.targetGeneration);
  });
});
