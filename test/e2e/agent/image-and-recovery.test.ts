// The kubelet as an rkt IMAGE (KUBELET_IMAGE_TAG/URL in the unit) and the recovery pass after a
// kill -9 mid-unit-edit, on this file's own worker container (real systemd 252, agent as a
// Type=notify service). The kubelet-wrapper stand-in runs /opt/kubelet-images/<tag>/kubelet,
// standing in for `rkt run …hyperkube:$KUBELET_IMAGE_TAG`. The unit starts at tag v1.
//   v1 → v2 (+ URL) converges; v3-broken is rolled back to v2 automatically (status says why);
//   kill -9 after the unit was written (before reload/verify) → recovery (after READY=1, the API
//   answering NW_RECOVERING meanwhile) finishes it;
//   the same with a tag that has no image → recovery rolls the unit back to its backup.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { apiAt, desiredState, lab, shIn, showIn, sign, waiter } from './lab.js';

const repo = path.resolve('.');
const name = `nwagenti${process.pid}`;
const HEALTH_TIMEOUT_SEC = 4;
const URL = 'quay.io/coreos/hyperkube';
const w = { name, journal: '', agentPort: 0, kubeletPort: 0 };
let booted = false;
let failed = false;

const labEnv = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LAB_NAME: name,
  LAB_MODE: 'hostusr',
  ...extra,
});

beforeAll(async () => {
  const share = lab().share;
  w.journal = path.join(share, `journal-${name}.txt`);
  w.agentPort = await freePort();
  w.kubeletPort = await freePort();
  booted = true; // from here on, afterAll stops the container (boot.sh may fail half-way)
  const t0 = Date.now();
  const r = spawnSync('bash', [path.join(repo, 'lab/worker/boot.sh')], {
    env: labEnv({
      LAB_SHARE: share,
      KUBELET_PORT: String(w.kubeletPort),
      AGENT_PORT: String(w.agentPort),
      HEALTH_TIMEOUT_SEC: String(HEALTH_TIMEOUT_SEC),
      KUBELET_IMAGE_TAG: 'v1',
      NODE_GROUP: 'lab-image',
    }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    failed = true;
    throw new Error(`lab/worker/boot.sh failed (exit ${r.status}): ${r.stdout}${r.stderr}\n(journal: ${w.journal}; run lab/install-deps.sh if systemd-container is missing)`);
  }
  process.stderr.write(`image-and-recovery: worker ${name} booted in ${Date.now() - t0} ms\n`);
}, 200_000);

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(() => {
  if (!booted) return;
  if (failed) {
    const j = spawnSync(path.join(repo, 'lab/systemd/exec.sh'), ['sh', '-c', `journalctl -b --no-pager -o short-precise > /lab/${path.basename(w.journal)}`], {
      env: labEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    process.stderr.write(`image-and-recovery: container journal saved to ${w.journal} (${j.status === 0 ? 'ok' : `${j.stdout}${j.stderr}`})\n`);
  }
  const s = spawnSync(path.join(repo, 'lab/systemd/stop.sh'), [], { env: labEnv(), encoding: 'utf8', timeout: 60_000 });
  if (s.status !== 0) process.stderr.write(`image-and-recovery: stop of ${name} failed: ${s.stdout}${s.stderr}\n`);
}, 90_000);

const sh = (cmd: string, o: { allowFail?: boolean } = {}) => shIn(w, cmd, o);
const api = (method: string, p: string, body?: unknown, token?: string | null) => apiAt(w.agentPort, method, p, body, token);
const status = async () => (await api('GET', '/v1/status')).json;
const readyz = async () => (await api('GET', '/readyz', undefined, null)).status;
const show = (unit: string, props: string[]) => showIn(w, unit, props);
const kubeletEnv = () => show('kubelet', ['Environment', 'NeedDaemonReload']);
const unitFile = () => sh('cat /etc/systemd/system/kubelet.service');
const agentJournal = () => sh('journalctl -u nodewright-agent --no-pager -o cat');
async function record(): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${w.kubeletPort}/record`, { signal: AbortSignal.timeout(2000) });
  return r.json();
}

const waitFor = waiter(() => w.journal);

const desired = (generation: number, tag: string) =>
  desiredState(generation, 'lab-image', { kubelet: { kind: 'image', version: tag, tag, url: URL } });
const stepOf = (s: any, n: string) => s.steps.find((x: any) => x.name === n);

/** Arm the lab phase hook, restart the agent, push a bundle, kill -9 the agent once the unit is written. */
async function killAfterUnitWrite(generation: number, tag: string): Promise<{ pid0: number; newPid: number }> {
  sh(`echo '{"pauseMs": {"unit:written": 5000}}' > /etc/nodewright/lab-hooks.json && systemctl restart nodewright-agent`);
  const r = await api('POST', '/v1/desired', sign(desired(generation, tag)));
  expect(r.status, r.text).toBe(202);
  await waitFor('unit written, not yet reloaded', async () => (await status()).inflight?.step === 'unit' && unitFile().includes(`KUBELET_IMAGE_TAG=${tag}\n`), 15_000, 50);
  const pid0 = Number(show('nodewright-agent', ['MainPID']).MainPID);
  expect(kubeletEnv().NeedDaemonReload).toBe('yes'); // died before daemon-reload: the manager still runs the old tag
  // The lab hooks are read at start: disarm them before the kill so the restarted agent does not pause.
  sh(`echo '{"pauseMs": {}}' > /etc/nodewright/lab-hooks.json; kill -9 ${pid0}`);
  const newPid = await waitFor(
    'agent restarted (READY=1)',
    () => {
      const s = show('nodewright-agent', ['MainPID', 'ActiveState', 'SubState']);
      return s.ActiveState === 'active' && s.SubState === 'running' && Number(s.MainPID) !== pid0 && Number(s.MainPID) > 0 && Number(s.MainPID);
    },
    30_000,
    100,
  );
  return { pid0, newPid };
}

/**
 * READY=1 comes before the recovery pass (agent/startup.ts: its worst case outlasts TimeoutStartSec);
 * wait until /readyz stops answering NW_RECOVERING, then check the recovery's kubelet restart came
 * after the new agent started.
 */
async function expectRecoveredAfterStart() {
  await waitFor('recovery pass done', async () => (await api('GET', '/readyz', undefined, null)).json?.code !== 'NW_RECOVERING', 30_000, 100);
  const a = show('nodewright-agent', ['ExecMainStartTimestampMonotonic']);
  const k = show('kubelet', ['ExecMainStartTimestampMonotonic']);
  expect(Number(k.ExecMainStartTimestampMonotonic)).toBeGreaterThan(Number(a.ExecMainStartTimestampMonotonic));
}

describe('kubelet image kind and recovery on a real systemd worker', () => {
  it('the wrapper stand-in selects the image by KUBELET_IMAGE_TAG, and fails clearly for a tag without one', async () => {
    const rec = await record();
    expect(rec.version).toBe('v1');
    expect(rec.env.KUBELET_IMAGE_TAG).toBe('v1');
    const r = sh('KUBELET_IMAGE_TAG=v9-none /opt/bin/kubelet-wrapper --healthz-port=1; echo "exit $?"', { allowFail: true });
    const err = sh('KUBELET_IMAGE_TAG=v9-none /opt/bin/kubelet-wrapper 2>&1 >/dev/null || true');
    expect(r).toContain('exit 3');
    expect(err).toContain('no image quay.io/coreos/hyperkube:v9-none (/opt/kubelet-images/v9-none/kubelet is missing');
  });

  it('image v1 → v2 (+ KUBELET_IMAGE_URL): unit rewritten, reloaded, restarted, read back, healthy', async () => {
    const r = await api('POST', '/v1/desired?wait=1', sign(desired(1, 'v2')));
    expect(r.status, r.text).toBe(200);
    const s = r.json.status;
    expect(s.converged, JSON.stringify(s.steps)).toBe(true);
    expect(stepOf(s, 'artifact')).toMatchObject({ state: 'changed' });
    expect(stepOf(s, 'artifact').message).toMatch(/kubelet v2 installed and healthy \(kubelet.service active, healthz 200/);
    expect(s.kubelet.version).toBe('v2');
    const env = kubeletEnv();
    expect(env.NeedDaemonReload).toBe('no');
    expect(env.Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v2( |$)/);
    expect(env.Environment).toContain(`KUBELET_IMAGE_URL=${URL}`);
    expect(unitFile()).toContain('Environment=KUBELET_IMAGE_TAG=v2\n');
    const rec = await record();
    expect(rec.version).toBe('v2');
    expect(rec.env).toMatchObject({ KUBELET_IMAGE_TAG: 'v2', KUBELET_IMAGE_URL: URL, KUBELET_STANDIN_IMAGE: `${URL}:v2` });
    expect(rec.keyring).toMatchObject({ readable: true, boundAtTarget: true });
    expect(await readyz()).toBe(200);
  });

  it('image v3-broken → rolled back to v2 automatically; status says why; not retried', async () => {
    const r = await api('POST', '/v1/desired?wait=1', sign(desired(2, 'v3-broken')));
    expect(r.status, r.text).toBe(200);
    const s = r.json.status;
    const art = stepOf(s, 'artifact');
    expect(art.state).toBe('rolled_back');
    expect(art.error.code).toBe('NW_HEALTH');
    expect(art.message).toMatch(new RegExp(`kubelet v3-broken \\(KUBELET_IMAGE_TAG=v3-broken\\): not healthy within ${HEALTH_TIMEOUT_SEC} s: kubelet.service active but healthz 500`));
    expect(art.message).toContain('rolled back kubelet image v3-broken → KUBELET_IMAGE_TAG=v2 (restored 1 unit file(s)), which is healthy again');
    expect(s.rollbacks).toBe(1);
    expect(s.kubelet.version).toBe('v2');
    const env = kubeletEnv();
    expect(env.NeedDaemonReload).toBe('no');
    expect(env.Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v2( |$)/);
    expect(unitFile()).toContain('Environment=KUBELET_IMAGE_TAG=v2\n');
    expect((await record()).version).toBe('v2');
    expect(await readyz()).toBe(503);
    const again = await api('POST', '/v1/reconcile?wait=1', undefined);
    expect(stepOf(again.json, 'artifact').state).toBe('rolled_back');
    expect(kubeletEnv().Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v2( |$)/);
  });

  it('kill -9 after the unit was written, before reload/verify: recovery finishes it; the next reconcile converges', async () => {
    await killAfterUnitWrite(3, 'v1');
    await expectRecoveredAfterStart();
    expect(agentJournal()).toContain(
      `recovery: finished kubelet image v1 (KUBELET_IMAGE_TAG=v1, KUBELET_IMAGE_URL=${URL}) in kubelet.service: daemon-reload, restart, effective environment verified, kubelet.service active, healthz 200`,
    );
    const env = kubeletEnv();
    expect(env.NeedDaemonReload).toBe('no');
    expect(env.Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v1( |$)/);
    const s = await waitFor('converged after recovery', async () => {
      const st = await status();
      return st.lastReconcile && st.inflight === null && st.converged && st;
    }, 20_000, 200);
    expect(stepOf(s, 'artifact').state).toBe('converged');
    expect(s.kubelet.version).toBe('v1');
    expect((await record()).version).toBe('v1');
    expect(await readyz()).toBe(200);
  });

  it('kill -9 after writing a tag with no image: recovery rolls the unit back to its backup', async () => {
    const before = unitFile();
    await killAfterUnitWrite(4, 'v9-none');
    await expectRecoveredAfterStart();
    const log = agentJournal();
    expect(log).toMatch(/recovery: kubelet image v9-none \(KUBELET_IMAGE_TAG=v9-none, [^)]*\) in kubelet.service did not verify \(not healthy within 4 s: kubelet.service (is (activating|failed)|active but healthz unreachable \(ECONNREFUSED\)); systemd restarted kubelet.service [1-9]\d* times? meanwhile(, last exit status 3)? \(see `journalctl -u kubelet.service`\)\)/);
    expect(log).toContain('rolled back kubelet image v9-none → KUBELET_IMAGE_TAG=v1 (restored 1 unit file(s)), which is healthy again');
    expect(unitFile()).toBe(before);
    const env = kubeletEnv();
    expect(env.NeedDaemonReload).toBe('no');
    expect(env.Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v1( |$)/);
    expect((await record()).version).toBe('v1');
    // The rejected tag is held, not retried; the worker stays consistent on v1.
    const s = await waitFor('reconciled after recovery', async () => {
      const st = await status();
      return st.lastReconcile && st.inflight === null && st;
    }, 20_000, 200);
    expect(stepOf(s, 'artifact').state).toBe('rolled_back');
    expect(stepOf(s, 'artifact').message).toContain('kubelet image v9-none was rolled back');
    expect(kubeletEnv().Environment).toMatch(/(^| )KUBELET_IMAGE_TAG=v1( |$)/);
  });
});
