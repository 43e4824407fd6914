// The agent's systemd-sysext image (dist/pkg/nodewright-agent-<v>-x86-64.raw), merged by the real
// systemd-sysext 252. The lab container cannot merge it itself: its /dev has no loop devices to
// attach the squashfs to. So the merge happens in a PRIVATE MOUNT NAMESPACE ON THE HOST (unshare -m;
// the host's own /usr never changes; the namespace has its own tmpfs on /run/extensions, made an
// empty directory on the host first if absent, and removed again): the image linked in as Flatcar does
// (versioned file + nodewright-agent.raw symlink), `systemd-sysext merge` → the command runs from
// /usr; a systemd 252 container booted from that namespace gets the merged /usr as its /usr and
// starts the unit from /usr/lib/systemd/system; `systemd-sysext unmerge` removes it all again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../lab/ports.js';
import { sysextFileName } from '../../../package/sysext.js';
import { COMPONENTS } from '../../../package/layout.js';
import { tempDir } from '../../tmp.js';
import { version } from './setup.js';

const raw = () => path.resolve('dist/pkg', sysextFileName(COMPONENTS.agent, version()));
const labDir = path.resolve('lab/systemd');
const name = `nwsysext${process.pid}`;
const labEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: name, LAB_MODE: 'hostusr' };

let holder: ChildProcess | null = null;
let booted = false;
let madeExtensionsDir = false;

/** A command in the private mount namespace (nsenter into the holder process's mount ns). */
function inNs(cmd: string, allowFail = false): string {
  const r = spawnSync('nsenter', ['-t', String(holder!.pid), '-m', '--', 'sh', '-c', cmd], { encoding: 'utf8', timeout: 120_000, env: labEnv });
  if (r.status !== 0 && !allowFail) throw new Error(`in the private mount namespace: \`${cmd}\` exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout + (allowFail ? r.stderr : '');
}
const inContainer = (cmd: string, allowFail = false) => {
  const r = spawnSync(path.join(labDir, 'exec.sh'), ['/bin/sh', '-c', cmd], { encoding: 'utf8', timeout: 60_000, env: labEnv });
  if (r.status !== 0 && !allowFail) throw new Error(`in ${name}: \`${cmd}\` exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

describe('systemd-sysext image, merged in a private mount namespace on the host (no loop devices in the lab container)', () => {
  beforeAll(async () => {
    if (!existsSync('/run/extensions')) {
      mkdirSync('/run/extensions');
      madeExtensionsDir = true;
    }
    // the namespace lives as long as this process: /run/extensions a tmpfs of its own, its mounts shared
    // among themselves (systemd-sysext moves its overlay in from a child namespace) but not with the
    // host; /run bound onto itself because systemd-sysext makes /run a slave mount, which needs a mount point
    const ns = 'mount --make-rshared / && mount --rbind /run /run && mount --make-rshared /run && mount -t tmpfs nw-sysext /run/extensions';
    holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${ns} && echo ready && exec sleep 3600`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.once('data', () => resolve());
      holder!.once('exit', (c) => reject(new Error(`unshare exited ${c}`)));
    });
  });

  afterAll(() => {
    if (booted) spawnSync(path.join(labDir, 'stop.sh'), [], { env: labEnv, encoding: 'utf8', timeout: 60_000 });
    if (holder?.pid && holder.exitCode === null) process.kill(holder.pid, 'SIGTERM');
    if (madeExtensionsDir) rmdirSync('/run/extensions');
  });

  it('the host namespace has no nodewright-agent in /usr before, and never gets one', () => {
    expect(spawnSync('test', ['-e', '/usr/bin/nodewright-agent']).status).toBe(1);
    expect(inNs('test -e /usr/bin/nodewright-agent || echo absent').trim()).toBe('absent');
  });

  it('systemd-sysext merge: the image (versioned file + nodewright-agent.raw link) is merged into /usr, the command runs from there', () => {
    const images = tempDir('nw-sysext-');
    copyFileSync(raw(), path.join(images, path.basename(raw())));
    inNs(`ln -s '${path.join(images, path.basename(raw()))}' /run/extensions/nodewright-agent.raw`);
    expect(existsSync('/run/extensions/nodewright-agent.raw')).toBe(false);
    const t0 = Date.now();
    inNs('systemd-sysext merge');
    process.stderr.write(`sysext: merge in ${Date.now() - t0} ms\n`);
    expect(inNs('systemd-sysext status')).toMatch(/\/usr\s+nodewright-agent\s/);
    expect(inNs('readlink -f /usr/bin/nodewright-agent').trim()).toBe('/usr/lib/nodewright-agent/bin/nodewright-agent');
    expect(inNs('/usr/bin/nodewright-agent --version')).toMatch(new RegExp(`^nodewright-agent ${version().replace(/\./g, '\\.')} \\(commit \\S+, node v24\\.\\d+\\.\\d+ linux-x64\\)`));
    expect(inNs('head -2 /usr/lib/systemd/system/nodewright-agent.service')).toBe('[Unit]\nConditionPathExists=/etc/nodewright/agent.yaml\n');
    // nothing of the image outside /usr
    expect(inNs(`unsquashfs -l '${raw()}' | grep -v '^squashfs-root$' | grep -v '^squashfs-root/usr' || true`).trim()).toBe('');
    // the host's own /usr is untouched
    expect(spawnSync('test', ['-e', '/usr/bin/nodewright-agent']).status).toBe(1);
  });

  it('a systemd 252 container on that /usr starts the unit from /usr/lib/systemd/system with the operator\'s /etc/nodewright config', async () => {
    const boot = spawnSync('nsenter', ['-t', String(holder!.pid), '-m', '--', path.join(labDir, 'boot.sh')], { env: labEnv, encoding: 'utf8', timeout: 120_000 });
    booted = true;
    expect(boot.status, `${boot.stdout}${boot.stderr}`).toBe(0);
    const port = await freePort();
    const etc = `/run/nodewright-lab/${name}/etc/nodewright`;
    mkdirSync(etc, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(etc, 'token'), randomBytes(16).toString('hex'), { mode: 0o600 });
    writeFileSync(path.join(etc, 'controller.pub'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path.join(etc, 'agent.yaml'), `listen: 127.0.0.1:${port}\nnode: sysext\ntokenFile: /etc/nodewright/token\npublicKeyFile: /etc/nodewright/controller.pub\nstateDir: /var/lib/nodewright\n`, { mode: 0o600 });
    inContainer('systemctl daemon-reload && systemctl start nodewright-agent');
    const show = inContainer('systemctl show -p FragmentPath -p ActiveState -p ExecMainPID nodewright-agent');
    // Debian's systemd names its unit path /lib/systemd/system: the same directory, /lib -> usr/lib (merged /usr)
    expect(show).toMatch(/FragmentPath=(\/usr)?\/lib\/systemd\/system\/nodewright-agent\.service/);
    expect(inContainer('readlink -f /lib/systemd/system/nodewright-agent.service').trim()).toBe('/usr/lib/systemd/system/nodewright-agent.service');
    expect(show).toMatch(/ActiveState=active/);
    const pid = /ExecMainPID=(\d+)/.exec(show)![1];
    expect(inContainer(`readlink /proc/${pid}/exe`).trim()).toBe('/usr/lib/nodewright-agent/node/bin/node');
    // enabled by the image itself (its multi-user.target.wants link), nothing written to /etc/systemd
    expect(inContainer('systemctl list-dependencies --plain multi-user.target')).toMatch(/nodewright-agent\.service/);
    const health = spawnSync('curl', ['-fsS', '-H', `Authorization: Bearer ${readFileSync(path.join(etc, 'token'), 'utf8')}`, `http://127.0.0.1:${port}/v1/status`], { encoding: 'utf8', timeout: 30_000 });
    expect(health.status, health.stderr).toBe(0);
    inContainer('systemctl stop nodewright-agent');
    spawnSync(path.join(labDir, 'stop.sh'), [], { env: labEnv, encoding: 'utf8', timeout: 60_000 });
    booted = false;
  }, 180_000);

  it('systemd-sysext unmerge: /usr is the plain OS again', () => {
    inNs('systemd-sysext unmerge');
    expect(inNs('systemd-sysext status')).toMatch(/\/usr\s+none\s/);
    expect(inNs('test -e /usr/bin/nodewright-agent || test -e /usr/lib/systemd/system/nodewright-agent.service || echo gone').trim()).toBe('gone');
  });
});
