// The real worker CLI (the installed agent package's nodewright-agent) run *inside* the systemd container on its
// /etc/systemd/system/kubelet.service: dry run, --write, daemon-reload, and systemd's read-back
// holds the pair; the seed's broken unit is refused and left untouched.
import { afterAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseShowEnvironment } from '../../../systemd/show.js';
import { ensureBindMount } from '../../../rkt/args.js';
import { CEPH_KEYRING, fixture } from '../../fixtures/units/index.js';
import { UNIT_DIR, daemonReload, inside, install, lab, show, uninstall } from './lab.js';

const UNIT = `${UNIT_DIR}/kubelet.service`;
const KEYRING = ['--volume', CEPH_KEYRING.name, '--source', CEPH_KEYRING.source, '--target', CEPH_KEYRING.target];
const agent = (args: string[]) => {
  // exit status is the last line (exec.sh passes it through; we keep stdout/stderr apart)
  const out = inside(['/bin/sh', '-c', `${lab().agentCli} "$@" 2>/tmp/agent.err; echo "exit=$?"; cat /tmp/agent.err`, 'sh', ...args]);
  const m = /^([\s\S]*)exit=(\d+)\n([\s\S]*)$/.exec(out)!;
  return { stdout: m[1], code: Number(m[2]), stderr: m[3] };
};
const hostPath = (p: string) => path.join(lab().etc, path.posix.relative('/etc', p));

afterAll(() => {
  uninstall(UNIT);
  daemonReload();
});

describe('nodewright-agent unit bind-mount inside a real systemd worker', () => {
  test('dry run, --write, daemon-reload: systemd reads the pair back, NeedDaemonReload=no', () => {
    install(fixture('lab-kubelet.service').at(UNIT_DIR, 'kubelet.service'));
    daemonReload();
    const before = readFileSync(hostPath(UNIT), 'utf8');

    const dry = agent(['unit', 'bind-mount', '--unit', UNIT, ...KEYRING]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^--- \/etc\/systemd\/system\/kubelet\.service\n/);
    expect(readFileSync(hostPath(UNIT), 'utf8')).toBe(before);

    const w = agent(['unit', 'bind-mount', '--unit', UNIT, ...KEYRING, '--write']);
    expect(w.code).toBe(0);
    expect(w.stdout).toBe(dry.stdout);
    expect(inside(['ls', '/var/lib/nodewright/backups'])).toBe('etc%2Fsystemd%2Fsystem%2Fkubelet.service\n');

    daemonReload();
    const s = show('kubelet.service');
    expect(s.needDaemonReload).toBe('no');
    const env = parseShowEnvironment(s.environment);
    expect(ensureBindMount(env.RKT_RUN_ARGS, CEPH_KEYRING).changed).toBe(false);
    expect(env.RKT_RUN_ARGS).toContain('--volume ceph-keyring,kind=host,source=/etc/ceph/ceph.client.k8s.keyring');

    const again = agent(['unit', 'bind-mount', '--unit', UNIT, ...KEYRING, '--write']);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(/already present/) });
  });

  test("the seed's kubelet.service: exit 2 NW_UNIT_PARSE, untouched; lint names the lines", () => {
    install(fixture('seed-kubelet.service').at(UNIT_DIR, 'kubelet.service'));
    daemonReload();
    const before = readFileSync(hostPath(UNIT), 'utf8');
    const r = agent(['unit', 'bind-mount', '--unit', UNIT, ...KEYRING, '--write']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_UNIT_PARSE: \/etc\/systemd\/system\/kubelet\.service:9:13: /);
    expect(readFileSync(hostPath(UNIT), 'utf8')).toBe(before);
    const l = agent(['unit', 'lint', '--unit', UNIT]);
    expect(l.code).toBe(1);
    expect(l.stdout.split('\n').filter(Boolean).map((x) => x.split(': ')[0])).toEqual([`${UNIT}:9`, `${UNIT}:16`]);
    // what systemd made of it: RKT_RUN_ARGS silently gone
    expect(parseShowEnvironment(show('kubelet.service').environment)).toEqual({ KUBELET_IMAGE_TAG: 'v1.7.10' });
  });
});
