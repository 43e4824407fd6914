// The packages step for real, under the shipped hardened unit: a native-kubelet worker (real
// Debian 12 root, systemd 252) starts without ceph-common; a signed `runtime: native` bundle makes
// the agent install it through apt in a transient unit (the agent itself cannot write /usr or
// /var/lib/dpkg); `rbd --version` then runs, and a second reconcile is converged. A package apt
// does not know is a coded NW_PACKAGES carrying apt's own words, and installs nothing.
// Then the agent's .deb through its life: enrolled with a join token read from a file (the packaged
// controller on the host), upgraded to a newer .deb with the edited config kept, removed (stopped;
// config and state stay), purged (both gone).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { requestJson, type JsonAnswer } from '../../../host/http-json.js';
import { loadPrivateKey, signBundle } from '../../../protocol/bundle.js';
import { debFileName } from '../../../package/deb.js';
import { COMPONENTS } from '../../../package/layout.js';
import { KEYRING, shIn } from '../agent/lab.js';
import { nodewright, startController, stopController } from '../controller/setup.js';
import { packagedBin } from '../build.js';
import { freePort } from '../../../lab/ports.js';

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

describe('the agent .deb (apt-get install ./nodewright-agent_<v>_amd64.deb): enroll, upgrade, remove, purge', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  const dir = () => path.join(lab().share, 'controller');
  const operator = () => path.join(dir(), 'operator.yaml');
  let controller: ChildProcess | null = null;
  afterAll(() => stopController(controller));
  const apt = (args: string) => sh(`DEBIAN_FRONTEND=noninteractive apt-get ${args} -y -q 2>&1`);
  const status = () => sh("dpkg-query -W -f='${Status} ${Version}' nodewright-agent 2>&1", { allowFail: true }).trim();
  const mainPid = () => sh('systemctl show -p MainPID --value nodewright-agent').trim();

  it('was installed by apt from the .deb: the unit from /lib/systemd/system, enabled, the command in /usr/bin', () => {
    expect(status()).toBe(`install ok installed ${version}`);
    expect(sh('systemctl show -p FragmentPath -p UnitFileState nodewright-agent')).toMatch(/FragmentPath=\/lib\/systemd\/system\/nodewright-agent\.service\nUnitFileState=enabled/);
    expect(sh('readlink /usr/bin/nodewright-agent').trim()).toBe('/opt/nodewright/bin/nodewright-agent');
    expect(sh('dpkg-query -W -f=\'${Conffiles}\' nodewright-agent')).toMatch(/\/etc\/nodewright\/agent\.yaml [0-9a-f]{32}/);
  });

  it('enrolls with a one-time join token read from a file; healthy in the inventory, converges through a rollout', async () => {
    const port = await freePort();
    const init = spawnSync(packagedBin('controller'), ['init', '--dir', dir(), '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 120_000 });
    expect(init.status, init.stdout + init.stderr).toBe(0);
    const cfg = path.join(dir(), 'controller.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 1'));
    controller = await startController(dir(), port, path.join(lab().share, 'controller.log'));
    const t = JSON.parse(nodewright(operator(), ['nodes', 'join-token', '--group', 'native', '--ttl', '10m', '--json']));
    // the token file, as Ignition or cloud-init would place it: 0600, read by join, never on argv
    shIn(lab(), 'umask 077; cat > /etc/nodewright/join-token', { input: t.token });
    // join writes a new agent.yaml (the package's conffile) and refuses to overwrite one: the token-mode lab config goes.
    // So does the state: generation 2 from the tests above (another signer) would make this controller's
    // generation 1 stale (NW_STALE, anti-replay); a worker enrolling fresh has none
    sh('systemctl stop nodewright-agent && rm /etc/nodewright/agent.yaml /etc/nodewright/token /etc/nodewright/controller.pub && rm -rf /var/lib/nodewright/*');
    sh(`nodewright-agent join --controller https://127.0.0.1:${port} --ca-cert-hash ${t.caCertHash} --token-file /etc/nodewright/join-token --config-out /etc/nodewright/agent.yaml --listen 127.0.0.1:${lab().agentPort} --name native`);
    // the operator's own edit of the enrolled config (kept through the upgrade below)
    sh("printf '# edited by the operator\\nstateDir: /var/lib/nodewright\\nlog:\\n  level: debug\\n' >> /etc/nodewright/agent.yaml && systemctl restart nodewright-agent");
    let node: { name: string; state: string; group: string } | undefined;
    for (const t0 = Date.now(); node?.state !== 'healthy'; await new Promise((r) => setTimeout(r, 500))) {
      if (Date.now() - t0 > 60_000) throw new Error(`the enrolled agent is not healthy in the inventory after 60 s: ${JSON.stringify(node)} (journal: ${lab().journal})`);
      node = JSON.parse(nodewright(operator(), ['nodes', 'ls', '--json'])).find((x: { name: string }) => x.name === 'native');
    }
    expect(node!.group).toBe('native');
    expect(JSON.parse(nodewright(operator(), ['nodes', 'show', 'native', '--json'])).status.agent.node).toBe('native');
    // converges on the controller's desired state: a one-wave rollout to the group (ceph-common is there already)
    const desired = path.join(dir(), 'desired.yaml');
    writeFileSync(path.join(dir(), 'keyring'), KEYRING, { mode: 0o600 });
    writeFileSync(desired, `runtime: native\npackages: { policy: auto }\nceph: { fsid: 0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11, monHost: ['127.0.0.1:3300'], clientId: k8s, keyringFile: keyring }\n`);
    const r = JSON.parse(nodewright(operator(), ['rollout', 'start', '--group', 'native', '--desired', desired, '--steps', '1', '--min-healthy', '1s', '--gate-timeout', '120s', '--json']));
    expect(nodewright(operator(), ['rollout', 'status', r.id, '--watch'])).toMatch(new RegExp(`^${r.id} completed`, 'm'));
    const show = JSON.parse(nodewright(operator(), ['nodes', 'show', 'native', '--json']));
    expect(show.status.converged, JSON.stringify(show.status)).toBe(true);
    expect(show.status.desired?.generation).toBeGreaterThanOrEqual(1);
    expect(sh('ls /etc/nodewright')).toMatch(/agent\.crt/);
  }, 180_000);

  it('upgrade to a newer .deb: the edited config is kept, the service restarted on the new version', () => {
    const newer = `${version}+1`;
    const work = path.join(lab().share, 'deb-newer');
    const build = spawnSync('sh', ['-c', 'dpkg-deb -R "$1" "$2" && sed -i "s/^Version: .*/Version: $3/" "$2/DEBIAN/control" && dpkg-deb --root-owner-group -Zgzip -z1 -b "$2" "$4" >/dev/null && rm -rf "$2"', 'sh', path.resolve('dist/pkg', debFileName(COMPONENTS.agent, version)), work, newer, path.join(lab().share, `nodewright-agent_${newer}_amd64.deb`)], { encoding: 'utf8', timeout: 300_000 });
    expect(build.status, build.stderr).toBe(0);
    const config = sh('sha256sum /etc/nodewright/agent.yaml');
    const pid = mainPid();
    const t0 = Date.now();
    apt(`install /lab/nodewright-agent_${newer}_amd64.deb`);
    process.stderr.write(`native: apt-get upgrade to the newer .deb in ${Date.now() - t0} ms\n`);
    expect(status()).toBe(`install ok installed ${newer}`);
    expect(sh('sha256sum /etc/nodewright/agent.yaml')).toBe(config);
    expect(sh('cat /etc/nodewright/agent.yaml')).toMatch(/# edited by the operator/);
    expect(sh('systemctl is-active nodewright-agent').trim()).toBe('active');
    expect(mainPid()).not.toBe(pid);
  }, 600_000);

  it('apt-get remove: the service stopped, the code gone; config, enrollment and state stay', () => {
    apt('remove nodewright-agent');
    expect(status()).toMatch(/^deinstall ok config-files /);
    expect(sh('systemctl is-active nodewright-agent', { allowFail: true }).trim()).not.toBe('active');
    expect(sh('for p in /usr/bin/nodewright-agent /opt/nodewright/bin /lib/systemd/system/nodewright-agent.service; do test -e $p && echo "$p left"; done; true').trim()).toBe('');
    expect(sh('ls /etc/nodewright').split('\n')).toEqual(expect.arrayContaining(['agent.yaml', 'agent.crt', 'agent.key']));
    expect(sh('cat /etc/nodewright/agent.yaml')).toMatch(/# edited by the operator/);
    expect(sh('test -d /var/lib/nodewright && echo kept').trim()).toBe('kept');
  }, 300_000);

  it('apt-get purge: config, enrollment and state removed', () => {
    apt('purge nodewright-agent');
    expect(status()).toMatch(/no packages found|not-installed/);
    expect(sh('for p in /etc/nodewright /var/lib/nodewright /var/cache/nodewright /opt/nodewright/bin; do test -e $p && echo "$p left"; done; true').trim()).toBe('');
  }, 300_000);
});
