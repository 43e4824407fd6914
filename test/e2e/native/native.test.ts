// The packages step for real, under the shipped hardened unit: a native-kubelet worker (real
// Debian 12 root, systemd 252) starts without ceph-common; a signed `runtime: native` bundle makes
// the agent install it through apt in a transient unit (the agent itself cannot write /usr or
// /var/lib/dpkg); `rbd --version` then runs, and a second reconcile is converged. A package apt
// does not know is a coded NW_PACKAGES carrying apt's own words, and installs nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { requestJson, type JsonAnswer } from '../../../host/http-json.js';
import { loadPrivateKey, signBundle } from '../../../protocol/bundle.js';
import { KEYRING, shIn } from '../agent/lab.js';

const lab = () => inject('nativeLab');
const sh = (cmd: string, o: { allowFail?: boolean } = {}) => shIn(lab(), cmd, o);
const sign = (d: unknown) => signBundle(d, loadPrivateKey(readFileSync(path.join(lab().share, 'controller.key'), 'utf8')));
const native = (generation: number, names?: string[]) => ({
  schema: 1,
  generation,
  nodeGroup: 'native',
  runtime: 'native',
  packages: { policy: 'auto', ...(names ? { names } : {}) },
  ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: KEYRING },
});

/** One request with the lab's token; `?wait=1` answers after the reconcile, apt included (minutes). */
function api(method: string, p: string, body?: unknown): Promise<JsonAnswer> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return requestJson(`http://127.0.0.1:${lab().agentPort}${p}`, { method, body: data, token: lab().token, timeoutMs: 900_000 }).catch((e: Error) => {
    throw new Error(`${e.message} (journal: ${lab().journal})`);
  });
}
const stepsOf = (s: any) => Object.fromEntries(s.steps.map((x: any) => [x.name, x]));
const pkgUnits = () => sh(`journalctl -b --no-pager -o cat _PID=1 | grep -o 'nodewright-pkg-[0-9a-f]*' | sort -u`, { allowFail: true }).split('\n').filter(Boolean);

describe('native-kubelet worker (Debian 12 root): the agent installs ceph-common under its hardened unit', () => {
  it('runs the installed agent package on its own node: the worker has no other node at all', () => {
    expect(sh('command -v node || echo none').trim()).toBe('none');
    const pid = sh('systemctl show -p MainPID --value nodewright-agent').trim();
    expect(sh(`readlink /proc/${pid}/exe`).trim()).toBe('/opt/nodewright/node/bin/node');
    expect(sh('nodewright-agent --version')).toMatch(/ node v24\.22\.3 linux-x64\)$/m);
  });

  it('runs as the shipped unit: no capabilities, read-only OS, no ceph-common yet', () => {
    const s = sh('systemctl show nodewright-agent -p ActiveState -p ProtectSystem -p CapabilityBoundingSet -p PrivateDevices -p SystemCallFilter');
    expect(s).toMatch(/ActiveState=active/);
    expect(s).toMatch(/ProtectSystem=strict/);
    expect(s).toMatch(/CapabilityBoundingSet=\n/);
    expect(s).toMatch(/PrivateDevices=yes/);
    expect(sh('cat /etc/os-release')).toMatch(/VERSION_CODENAME=bookworm/);
    expect(sh('dpkg-query -W -f=\'${Status}\' ceph-common 2>&1; command -v rbd', { allowFail: true })).not.toMatch(/install ok installed|\/rbd/);
    // the agent's own sandbox really cannot write the OS: what apt would do there fails
    const pid = sh('systemctl show -p MainPID --value nodewright-agent').trim();
    expect(sh(`nsenter -t ${pid} -m sh -c 'touch /usr/bin/nw-probe 2>&1; touch /var/lib/dpkg/nw-probe 2>&1'`, { allowFail: true })).toMatch(/Read-only file system/);
  });

  it('a package apt does not know: NW_PACKAGES with apt\'s words, nothing installed', async () => {
    const r = await api('POST', '/v1/desired?wait=1', sign(native(1, ['nodewright-no-such-package'])));
    expect(r.status, r.text).toBe(200);
    const p = stepsOf(r.json.status).packages;
    expect(p.state, JSON.stringify(p)).toBe('failed');
    expect(p.error?.code).toBe('NW_PACKAGES');
    expect(p.message).toMatch(/apt could not install nodewright-no-such-package: .*Unable to locate package nodewright-no-such-package/);
    expect(p.message).toMatch(/transient unit nodewright-pkg-[0-9a-f]{8}/);
    expect(sh('command -v rbd', { allowFail: true })).toBe('');
  }, 600_000);

  it('runtime: native → apt installs ceph-common in a nodewright-pkg-* transient unit: step changed, rbd --version runs', async () => {
    const before = pkgUnits().length;
    const t0 = Date.now();
    const r = await api('POST', '/v1/desired?wait=1', sign(native(2)));
    const ms = Date.now() - t0;
    expect(r.status, r.text).toBe(200);
    const p = stepsOf(r.json.status).packages;
    expect(p.state, JSON.stringify(p)).toBe('changed');
    expect(p.message).toMatch(/installed ceph-common/);
    process.stderr.write(`native: packages step installed ceph-common in ${ms} ms\n`);
    expect(sh("dpkg-query -W -f='${Status} ${Version}' ceph-common")).toMatch(/^install ok installed 16\.2\./);
    expect(sh('rbd --version')).toMatch(/^ceph version 16\.2\.\d+/);
    // apt update + apt install, each its own transient unit, collected afterwards
    expect(pkgUnits().length).toBeGreaterThanOrEqual(before + 2);
    expect(sh("systemctl list-units --all --no-legend 'nodewright-pkg-*'", { allowFail: true }).trim()).toBe('');
    expect(sh('systemctl show -p ActiveState --value nodewright-agent').trim()).toBe('active');
  }, 900_000);

  it('a second reconcile is converged (nothing installed again)', async () => {
    const before = pkgUnits().length;
    const r = await api('POST', '/v1/reconcile?wait=1');
    expect(r.status, r.text).toBe(200);
    const s = r.json;
    expect(stepsOf(s).packages.state, JSON.stringify(s.steps)).toBe('converged');
    expect(pkgUnits().length).toBe(before);
  }, 300_000);
});
