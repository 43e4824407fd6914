// The agent's probes against the REAL Ceph lab, on a second worker container (real systemd 252,
// /dev/fuse bound): the keyring exported by `nodewright ceph prepare` plus the real fsid and mon
// address make both probes pass (rbd create/info/rm as client.k8s, ceph-fuse mount of the 16Mi
// quota directory up to EDQUOT) and the worker ready; a keyring with another valid key leaves it
// not ready with NW_CEPH_AUTH; the right key again makes it ready. Nothing is left behind.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { KEYRING_PATH, apiAt, desiredState, kubeletBuild, shIn, sign } from './lab.js';

const cw = inject('cephWorkerLab');
const realKeyring = readFileSync(cw.clientKeyring, 'utf8');
const api = (method: string, p: string, body?: unknown, token?: string | null) => apiAt(cw.agentPort, method, p, body, token);
const readyz = async () => (await api('GET', '/readyz', undefined, null)).status;
const admin = (...args: string[]) =>
  execFileSync(args[0], ['-c', '/dev/null', '-m', cw.ceph.monAddr, '--id', 'admin', '--keyring', cw.ceph.adminKeyring, ...args.slice(1)], { encoding: 'utf8', timeout: 30_000 });

function desired(generation: number, keyring: string) {
  const v1 = kubeletBuild('v1'); // what provision.sh installed: the artifact step has nothing to do
  return desiredState(generation, 'lab-ceph', {
    ceph: { fsid: cw.ceph.fsid, monHost: [cw.ceph.monAddr], clientId: 'k8s', keyring },
    kubelet: { kind: 'binary', version: v1.version, sha256: v1.sha256, size: v1.size, url: 'file:///lab/kubelets/kubelet-v1' },
    probes: { rbd: { pool: 'k8s' }, quota: { path: cw.quotaPath } },
  });
}

const probesOf = (s: any) => Object.fromEntries(s.probes.map((p: any) => [p.name, p]));

// The agent's own keyring write makes its drift watch queue one more reconcile (with probes) right
// after the pushed one; that run's probe image/mount exist while it runs. What must hold: once the
// agent is done (within 2 probe timeouts per probe), nothing is left behind.
async function nothingLeftBehind() {
  const t0 = Date.now();
  for (;;) {
    const images = admin('rbd', 'ls', '-p', 'k8s').trim();
    const mounts = shIn(cw, "grep -c ' fuse.ceph-fuse ' /proc/mounts || true").trim();
    if ((images === '' && mounts === '0') || Date.now() - t0 > 4 * cw.probeTimeoutSec * 1000) {
      expect(images, 'probe images left in pool k8s').toBe('');
      expect(mounts, 'ceph-fuse mounts left in the worker').toBe('0');
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function push(generation: number, keyring: string) {
  const r = await api('POST', '/v1/desired?wait=1', sign(desired(generation, keyring)));
  expect(r.status, r.text).toBe(200);
  const st = await api('GET', '/v1/status');
  expect(st.status).toBe(200);
  expect(st.json.desired?.generation, 'the agent lost the accepted bundle').toBe(generation);
  return st.json;
}

describe('agent probes against the real Ceph lab', () => {
  it('the exported client keyring + real fsid/mon: rbd and cephfs-quota pass, /readyz 200', async () => {
    expect(realKeyring).toMatch(/^\[client\.k8s\]\n\s*key = AQ[A-Za-z0-9+/]{36}==/);
    const s = await push(1, realKeyring);
    const p = probesOf(s);
    expect(p.rbd, JSON.stringify(s.probes)).toMatchObject({ status: 'pass', ok: true });
    expect(p['cephfs-quota'], JSON.stringify(s.probes)).toMatchObject({ status: 'pass', ok: true, details: { quotaBytes: 16 * 1024 * 1024 } });
    expect(Object.fromEntries(s.steps.map((x: any) => [x.name, x.state]))).toMatchObject({ keyring: 'changed', unit: 'changed', artifact: 'converged', probes: expect.stringMatching(/converged|changed/) });
    expect(s.converged, JSON.stringify(s.steps)).toBe(true);
    expect(s.ready).toBe(true);
    expect(await readyz()).toBe(200);
    expect(shIn(cw, `stat -c %a ${KEYRING_PATH}; cat ${KEYRING_PATH}`)).toBe(`600\n${realKeyring}`);
    expect(shIn(cw, 'cat /etc/ceph/ceph.conf')).toContain(`fsid = ${cw.ceph.fsid}`);
    await nothingLeftBehind();
  });

  it('a keyring with another valid key: not ready, the rbd probe fails NW_CEPH_AUTH within the probe timeout', async () => {
    const otherKey = execFileSync('ceph-authtool', ['--gen-print-key'], { encoding: 'utf8' }).trim();
    expect(otherKey).toMatch(/^AQ[A-Za-z0-9+/]{36}==$/);
    const wrong = realKeyring.replace(/key = \S+/, `key = ${otherKey}`);
    expect(wrong).not.toBe(realKeyring);
    const s = await push(2, wrong);
    const p = probesOf(s);
    expect(p.rbd, JSON.stringify(s.probes)).toMatchObject({ status: 'fail', ok: false, error: { code: 'NW_CEPH_AUTH' } });
    expect(p.rbd.durationMs).toBeLessThan((cw.probeTimeoutSec + 3) * 1000);
    expect(p['cephfs-quota'].ok).toBe(false);
    expect(JSON.stringify(s.probes)).not.toContain(otherKey);
    const step = s.steps.find((x: any) => x.name === 'probes');
    expect(step.state).toBe('failed');
    expect(step.message).toContain('rbd: NW_CEPH_AUTH');
    expect(s.ready).toBe(false);
    expect(await readyz()).toBe(503);
    await nothingLeftBehind();
  });

  it('the right key again: probes pass and the worker is ready again', async () => {
    const s = await push(3, realKeyring);
    expect(s.probes.map((p: any) => [p.name, p.status])).toEqual([
      ['rbd', 'pass'],
      ['cephfs-quota', 'pass'],
    ]);
    expect(s.ready).toBe(true);
    expect(await readyz()).toBe(200);
    await nothingLeftBehind();
  });
});
