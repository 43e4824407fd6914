// The cephHealth rollout gate against a real Ceph 16 (its own lab/ceph cluster: the suite's shared
// lab loses its mon in ceph.test.ts) and the real controller daemon with honest simulated agents.
// `nodewright ceph prepare --monitor-keyring-out` creates the controller's `mon 'allow r'` client;
// `ceph osd set noout` → HEALTH_WARN OSDMAP_FLAGS → the running rollout holds before its next wave
// with the check's name in its reason and no new node touched; `ceph osd unset noout` → it continues
// and completes. A desired state naming monitors nobody answers on is refused at start, naming them.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { startCephLab, stopCephLab, type CephLab } from '../../../lab/ceph/lab.js';
import { freePort } from '../../../lab/ports.js';
import { startSimFleet, type SimFleet } from '../../integration/controller/sim-fleet.js';
import { tempDir } from '../../tmp.js';
import { nodewright } from './cli.js';

const NODES = ['c1', 'c2', 'c3'];
interface Status { id: string; state: string; reason: string | null; gates?: { gate: string; pass: boolean; message: string }[]; nodes: { name: string; phase: string }[] }

describe('cephHealth gate on a real cluster', () => {
  let lab: CephLab;
  let fleet: SimFleet;
  let work: string;
  let baseline: string[] = [];
  const asAdmin = (...args: string[]) =>
    execFileSync('ceph', ['-c', '/dev/null', '-m', lab.monAddr, '--id', 'admin', '--keyring', lab.adminKeyring, '--connect-timeout', '10', ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const status = async (id: string) => (await fleet.api('GET', `/v1/rollouts/${id}`)).json as Status;
  const desiredFile = (tag: string, monHost: string[]) => {
    const file = path.join(work, `desired-${tag}.yaml`);
    writeFileSync(file, stringify({ ...rolloutDesired(tag), ceph: { fsid: lab.fsid, monHost, clientId: 'k8s', keyringFile: lab.k8sKeyring } }));
    return file;
  };

  beforeAll(async () => {
    lab = await startCephLab();
    work = tempDir('nw-ceph-gates-');
    const monitorKeyring = path.join(work, 'monitor.keyring');
    const r = await nodewright('ceph', 'prepare', '--mon', lab.monAddr, '--admin-keyring', lab.adminKeyring, '--monitor-keyring-out', monitorKeyring);
    expect(r.out).toMatch(/create client\.nodewright-controller with caps mon 'allow r': done/);
    expect(statSync(monitorKeyring).mode & 0o777).toBe(0o600);
    expect(JSON.parse(asAdmin('auth', 'get', 'client.nodewright-controller', '-f', 'json'))[0].caps).toEqual({ mon: 'allow r' });
    // what the lab warns about anyway (one OSD, no replicas…) is ignored; OSDMAP_FLAGS is what we test
    baseline = Object.keys(JSON.parse(asAdmin('health', 'detail', '-f', 'json')).checks ?? {}).filter((c) => c !== 'OSDMAP_FLAGS');
    fleet = await startSimFleet({
      nodes: NODES,
      extraConfig: `ceph:\n  clientId: nodewright-controller\n  keyringFile: ${monitorKeyring}\n  timeoutSec: 3\ngates:\n  intervalSec: 0.5\n`,
    });
  }, 300_000);

  afterAll(async () => {
    await fleet?.stop();
    try {
      if (lab) asAdmin('osd', 'unset', 'noout');
    } catch {
      // the lab goes away next
    }
    if (lab) stopCephLab(lab.dir);
  });

  it('noout holds a running rollout before its next wave, naming OSDMAP_FLAGS; unset, it continues and completes', async () => {
    const file = path.join(work, 'strategy.yaml');
    // minHealthy leaves the canary in flight well beyond the gate's next evaluation after noout
    writeFileSync(file, stringify({ steps: '1', minHealthy: '8s', gates: [{ cephHealth: { allow: ['HEALTH_OK'], ignore: baseline } }] }));
    const r = fleet.nodewright('rollout', 'start', '--group', 'lab', '--desired', desiredFile('noout', [lab.monAddr]), '--strategy', file, '--json');
    expect(r.stderr).toBe('');
    const id = JSON.parse(r.stdout).id as string;
    // the first wave runs (the gate passed), then noout
    await fleet.waitFor('the canary pushed', () => fleet.pushes.length === 1);
    asAdmin('osd', 'set', 'noout');
    await fleet.waitFor('the rollout held by the gate', async () => (await status(id)).reason?.includes('OSDMAP_FLAGS') ?? false);
    const held = await status(id);
    expect(held.state).toBe('waiting');
    expect(held.reason).toMatch(/^gate cephHealth holds: HEALTH_WARN \(OSDMAP_FLAGS: noout flag\(s\) set\)$/);
    expect(held.nodes.filter((n) => n.phase !== 'pending')).toHaveLength(1);
    // the canary finishes its own gate; nobody else is touched while noout is set
    await fleet.waitFor('the canary healthy', async () => (await status(id)).nodes.find((n) => n.name === fleet.pushes[0])?.phase === 'healthy');
    await new Promise((res) => setTimeout(res, 3000));
    expect(fleet.pushes).toHaveLength(1);
    expect((await status(id)).state).toBe('waiting');
    expect(fleet.nodewright('rollout', 'status', id).stdout).toContain('gate cephHealth: holds — HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)');

    asAdmin('osd', 'unset', 'noout');
    await fleet.waitFor(`rollout ${id} completed`, async () => (await status(id)).state === 'completed', 90_000);
    expect([...fleet.pushes].sort()).toEqual(NODES);
    expect((await status(id)).gates).toEqual([expect.objectContaining({ gate: 'cephHealth', pass: true })]);
  }, 180_000);

  it('a desired state whose monitors do not answer is refused at start, naming the monitors tried', async () => {
    const nobody = `127.0.0.1:${await freePort()}`;
    const r = fleet.nodewright('rollout', 'start', '--group', 'lab', '--desired', desiredFile('nobody', [nobody]), '--json');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NW_CEPH_TIMEOUT/);
    expect(r.stderr).toContain(`is unreachable (tried monitors ${nobody} as client.nodewright-controller`);
    expect(JSON.parse(fleet.nodewright('rollout', 'ls', '--json').stdout)).toHaveLength(1); // only the first rollout
  }, 60_000);
});
