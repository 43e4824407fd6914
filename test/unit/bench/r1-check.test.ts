// R1's judgement (bench/r1-check.ts) on hand-made worker snapshots: each rule can fail.
import { describe, expect, test } from 'vitest';
import { fileProblems, progressOf, restartProblems, versionLine, workerProblems, type AfterRestart, type Scenario, type WorkerFacts } from '../../../bench/r1-check.js';

const v1 = { version: 'v1', sha256: 'a'.repeat(64), broken: false, preinstalled: true };
const v2 = { version: 'v2', sha256: 'b'.repeat(64), broken: false };
const v3 = { version: 'v3', sha256: 'c'.repeat(64), broken: true };
const K = '/usr/local/bin/kubelet';
const KR = '/etc/ceph/ceph.client.k8s.keyring';
const U = '/etc/systemd/system/kubelet.service';
const sc: Scenario = {
  name: 'swap',
  allowed: { [K]: [v1.sha256, v2.sha256], [KR]: ['old', 'new'], [U]: ['u-old', 'u-new'] },
  converged: { [K]: v2.sha256, [KR]: 'new', [U]: 'u-new' },
  builds: [v1, v2, v3],
  expectKubelet: v2.sha256,
  desiredKubelet: v2.sha256,
  kubeletPath: K,
  keyringPaths: [KR],
  unitPaths: [U],
  rktMustContain: '--volume ceph-keyring',
};
const good = (): AfterRestart => ({
  files: { [K]: v2.sha256, [KR]: 'new', [U]: 'u-new' },
  unitErrors: {},
  stateError: null,
  leftovers: [],
  needDaemonReload: false,
  rktRunArgs: '--volume ceph-keyring,kind=host --mount x',
  running: versionLine(v2),
  exitCode: 0,
  state: { inflight: null },
  status: {
    converged: true,
    inflight: null,
    kubelet: { version: 'v2', sha256: v2.sha256, lastGood: { version: 'v2', sha256: v2.sha256 } },
    steps: [
      { name: 'keyring', state: 'changed', message: '' },
      { name: 'unit', state: 'changed', message: '' },
      { name: 'artifact', state: 'changed', message: '' },
    ],
  },
});

describe('R1 checks', () => {
  test('a converged worker whose status is true has no problems', () => {
    expect(restartProblems(sc, good())).toEqual([]);
  });

  test('a managed file that is neither old nor new, an unparseable unit, a torn state.json', () => {
    const s = { ...good(), files: { ...good().files, [KR]: 'torn' }, unitErrors: { [U]: 'NW_UNIT_PARSE: x' }, stateError: 'does not parse' };
    expect(fileProblems(sc, s)).toEqual([
      `${KR} is neither the old nor the new content (torn)`,
      `${U} does not parse: NW_UNIT_PARSE: x`,
      'state.json: does not parse',
    ]);
    expect(fileProblems(sc, { ...s, files: { ...s.files, '/etc/ceph/extra': 'x' } })).toContain('/etc/ceph/extra is neither the old nor the new content (x)');
  });

  test('systemd disagrees, a broken or different build runs, the status lies', () => {
    expect(restartProblems(sc, { ...good(), needDaemonReload: true })).toEqual(['NeedDaemonReload=yes after the restart']);
    expect(restartProblems(sc, { ...good(), leftovers: ['/usr/local/bin/.kubelet.nw-staged'] })).toEqual(['temp/staging files left next to managed files: /usr/local/bin/.kubelet.nw-staged']);
    expect(fileProblems(sc, { ...good(), leftovers: ['/etc/ceph/.ceph.conf.nw-0123456789ab'] })).toEqual([]); // right after a kill they may exist
    expect(restartProblems(sc, { ...good(), running: versionLine(v3) })).toContain('the running kubelet is the broken build v3');
    expect(restartProblems(sc, { ...good(), running: versionLine(v1) })).toContain('installed kubelet v2 is not the running one (v1)');
    const lie = good();
    lie.status!.kubelet = { version: 'v3', sha256: v3.sha256, lastGood: { version: 'v3', sha256: v3.sha256 } };
    expect(restartProblems(sc, lie)).toEqual(
      expect.arrayContaining([
        `status says kubelet v3 (${v3.sha256.slice(0, 12)}) but v2 is installed`,
        'status names kubelet version "v3", the installed build is v2',
        'status names the broken build v3 as the last good kubelet',
      ]),
    );
    const unitLie = { ...good(), rktRunArgs: '--volume other' };
    expect(restartProblems(sc, unitLie)).toEqual(['status says unit changed but systemd\'s RKT_RUN_ARGS lacks --volume ceph-keyring']);
    expect(restartProblems(sc, { ...good(), exitCode: 1 })).toEqual(['status converged=true but apply exited 1']);
    expect(restartProblems(sc, { ...good(), status: null, exitCode: 137 })).toEqual(['the restarted agent printed no status (exit 137)']);
  });

  test('a preinstalled build may be reported as "unknown" (by sha256); a build the agent installed may not', () => {
    const back = good();
    back.files[K] = v1.sha256;
    back.running = versionLine(v1);
    back.exitCode = 1;
    back.status = { ...back.status!, converged: false, kubelet: { version: 'unknown', sha256: v1.sha256 }, steps: [{ name: 'artifact', state: 'rolled_back', message: '' }] };
    expect(restartProblems(sc, back)).toEqual([]);
    const v2unknown = good();
    v2unknown.status!.kubelet.version = 'unknown';
    expect(restartProblems(sc, v2unknown)).toEqual(['status names kubelet version "unknown", the installed build is v2']);
  });

  test('progress names where a kill landed', () => {
    const s = { files: { [K]: v1.sha256, [KR]: 'new', [U]: 'u-old' }, unitErrors: {}, stateError: null, leftovers: [] };
    expect(progressOf(sc, s, null)).toBe('written: keyring');
    expect(progressOf(sc, s, { step: 'artifact', phase: 'staged' })).toBe('inflight:artifact/staged');
    expect(progressOf(sc, s, { kind: 'binary', phase: 'swapped' })).toBe('inflight:binary/swapped');
    expect(progressOf(sc, { ...s, files: { [K]: v1.sha256, [KR]: 'old', [U]: 'u-old' } }, null)).toBe('nothing written');
  });

  describe('on a real worker (systemd and the kubelet answer for themselves)', () => {
    const facts = (): WorkerFacts => ({
      generation: 1,
      status: { ...good().status!, desired: { generation: 1 }, lastReconcile: { generation: 1, ok: true } },
      kubelet: { version: 'v2', broken: false, pid: 42 },
      kubeletMainPid: 42,
      modelEnv: { RKT_RUN_ARGS: '--volume ceph-keyring', KUBELET_IMAGE_TAG: 'v1.7.10' },
      shownEnv: { RKT_RUN_ARGS: '--volume ceph-keyring', KUBELET_IMAGE_TAG: 'v1.7.10' },
    });
    test('a consistent worker has no problems', () => {
      expect(workerProblems(sc, good(), facts())).toEqual([]);
    });
    test('systemd runs another environment than the unit files say', () => {
      const f = { ...facts(), shownEnv: { RKT_RUN_ARGS: '--volume other' } };
      expect(workerProblems(sc, good(), f)).toEqual([
        'systemd\'s RKT_RUN_ARGS="--volume other" is not the unit files\' "--volume ceph-keyring"',
        'systemd\'s KUBELET_IMAGE_TAG=null is not the unit files\' "v1.7.10"',
      ]);
      expect(workerProblems(sc, good(), { ...facts(), modelEnv: null })).toEqual(['the unit files give no effective environment (parser failed)']);
    });
    test('leftover temp files, a kubelet that is not the service, a status of another generation or kubelet', () => {
      expect(workerProblems(sc, good(), { ...facts(), kubeletMainPid: 7 })).toEqual(["the kubelet answering (pid 42) is not kubelet.service's main process (7)"]);
      expect(workerProblems(sc, good(), { ...facts(), kubelet: null })).toEqual(['no kubelet answers on its health port']);
      expect(workerProblems(sc, good(), { ...facts(), generation: 2 })).toEqual([
        'status holds generation 1, the accepted bundle was 2',
        'the last reconcile ran generation 1, not 2',
      ]);
      expect(workerProblems(sc, good(), { ...facts(), kubelet: { version: 'v1', broken: false, pid: 42 } })).toEqual(['status names kubelet "v2", the running kubelet says v1']);
      const rb = facts();
      rb.status!.steps = [{ name: 'artifact', state: 'rolled_back', message: '' }];
      expect(workerProblems(sc, good(), rb)).toEqual(['status says artifact rolled_back but does not hold the desired build as rejected']);
      rb.status!.kubelet.rejected = [{ sha256: v2.sha256 }];
      expect(workerProblems(sc, good(), rb)).toEqual([]);
    });
  });
});
