// The .deb and sysext plans (package/deb.ts, package/sysext.ts): pure text, checked without dpkg.
import { describe, expect, test } from 'vitest';
import { debChangelog, debFileName, debFiles, debPostinst, debPostrm, debPrerm, debVersion, lintianOverrides } from '../../../package/deb.js';
import { COMPONENTS } from '../../../package/layout.js';
import { extensionRelease, sysextFileName, sysextUnit, sysextWantsLink } from '../../../package/sysext.js';

const { agent, controller } = COMPONENTS;

describe('debVersion', () => {
  test('a release is itself, a pre-release sorts before it (~), build metadata after (+)', () => {
    expect(debVersion('0.1.0')).toBe('0.1.0');
    expect(debVersion('1.0.0-rc.1')).toBe('1.0.0~rc.1');
    expect(debVersion('1.0.0-beta-2+git.5')).toBe('1.0.0~beta.2+git.5');
    expect(debFileName(agent, '1.0.0-rc.1')).toBe('nodewright-agent_1.0.0~rc.1_amd64.deb');
  });
  test('not semver: a coded build error', () => {
    expect(() => debVersion('v1')).toThrow(/NW_PKG_BUILD|not semver/);
  });
});

describe('debFiles', () => {
  const staged = [
    { path: 'bin/nodewright-agent', mode: 0o100755 },
    { path: 'lib/nodewright-agent.cjs', mode: 0o100755 },
    { path: 'node/bin/node', mode: 0o100755 },
    { path: 'systemd/nodewright-agent.service', mode: 0o100644 },
    { path: 'etc/agent.yaml', mode: 0o100600 },
    { path: 'install.sh', mode: 0o100755 },
    { path: 'MANIFEST', mode: 0o100644 },
    { path: 'PLAN', mode: 0o100644 },
  ];
  test('the tarball layout under /opt/nodewright; the unit in /lib/systemd/system; the config a conffile; no install.sh', () => {
    const f = debFiles(agent, staged);
    expect(f.map).toEqual([
      { src: 'bin/nodewright-agent', dest: '/opt/nodewright/bin/nodewright-agent', mode: 0o755 },
      { src: 'lib/nodewright-agent.cjs', dest: '/opt/nodewright/lib/nodewright-agent.cjs', mode: 0o644 },
      { src: 'node/bin/node', dest: '/opt/nodewright/node/bin/node', mode: 0o755 },
      { src: 'systemd/nodewright-agent.service', dest: '/lib/systemd/system/nodewright-agent.service', mode: 0o644 },
      { src: 'etc/agent.yaml', dest: '/etc/nodewright/agent.yaml', mode: 0o600 },
    ]);
    expect(f.links).toEqual([{ dest: '/usr/bin/nodewright-agent', target: '/opt/nodewright/bin/nodewright-agent' }]);
    expect(f.conffiles).toEqual(['/etc/nodewright/agent.yaml']);
  });
  test('a file with no place is a build error, not a silently dropped file', () => {
    expect(() => debFiles(agent, [...staged, { path: 'extra/thing', mode: 0o644 }])).toThrow(/extra\/thing has no place/);
  });
});

describe('maintainer scripts (dh_installsystemd semantics)', () => {
  test('postinst enables through deb-systemd-helper, starts on install and restarts on upgrade, never fails the install', () => {
    const s = debPostinst(agent);
    expect(s).toMatch(/^#!\/bin\/sh\nset -e\n/);
    expect(s).toContain("deb-systemd-helper enable 'nodewright-agent.service'");
    expect(s).toMatch(/if \[ -n "\$2" \]; then\n\t+_dh_action=restart/);
    expect(s).toContain("deb-systemd-invoke $_dh_action 'nodewright-agent.service' >/dev/null || true");
    expect(s).not.toMatch(/systemctl (start|enable|restart)/);
  });
  test('prerm stops only on remove (an upgrade restarts in postinst)', () => {
    expect(debPrerm(agent)).toMatch(/"\$1" = remove .*\n\tdeb-systemd-invoke stop 'nodewright-agent.service'/);
  });
  test('postrm: remove touches no config or state; purge removes the component\'s config and state', () => {
    const s = debPostrm(agent);
    const [removePart, purgePart] = s.split('if [ "$1" = "purge" ]; then');
    expect(removePart).not.toContain('rm -rf');
    expect(purgePart).toContain('rm -rf /etc/nodewright\n');
    expect(purgePart).toContain('rm -rf /var/lib/nodewright\n');
    expect(purgePart).toContain('deb-systemd-helper purge');
    // the controller never deletes the agent's /etc/nodewright wholesale, only its own state
    const c = debPostrm(controller);
    expect(c).not.toContain('rm -rf /etc/nodewright');
    expect(c).toContain('rm -rf /var/lib/private/nodewright-controller');
  });
  test('every lintian override carries a reason (a comment right above it)', () => {
    const lines = lintianOverrides(agent).trimEnd().split('\n');
    lines.forEach((l, i) => {
      if (!l.startsWith('#')) {
        expect(l).toMatch(/^nodewright-agent: [a-z0-9-]+ /);
        expect(lines[i - 1]).toMatch(/^#|^nodewright-agent: /);
      }
    });
    expect(lines[0]).toMatch(/^# /);
  });
  test('changelog: the Debian format with an RFC 2822 date', () => {
    expect(debChangelog(agent, '0.1.0', new Date(Date.UTC(2026, 11, 7, 15, 0, 0)))).toMatch(/^nodewright-agent \(0\.1\.0\) unstable; urgency=medium\n[\s\S]*\n -- .+ <.+>  Mon, 07 Dec 2026 15:00:00 \+0000\n$/);
  });
});

describe('sysext', () => {
  test('extension-release: any OS, the architecture systemd checks', () => {
    expect(extensionRelease('0.1.0')).toBe('ID=_any\nSYSEXT_LEVEL=1.0\nARCHITECTURE=x86-64\nVERSION_ID=0.1.0\n');
    expect(sysextFileName(agent, '0.1.0')).toBe('nodewright-agent-0.1.0-x86-64.raw');
  });
  test('the unit runs from /usr and waits for the operator\'s config', () => {
    const u = sysextUnit('[Unit]\nDescription=x\n\n[Service]\nExecStart=/opt/nodewright/bin/nodewright-agent run --config /etc/nodewright/agent.yaml\n', agent);
    expect(u).toBe('[Unit]\nConditionPathExists=/etc/nodewright/agent.yaml\nDescription=x\n\n[Service]\nExecStart=/usr/lib/nodewright-agent/bin/nodewright-agent run --config /etc/nodewright/agent.yaml\n');
    expect(() => sysextUnit('[Service]\nExecStart=/usr/bin/true\n', agent)).toThrow(/no single line/);
    expect(sysextWantsLink(agent)).toEqual({ dest: 'usr/lib/systemd/system/multi-user.target.wants/nodewright-agent.service', target: '../nodewright-agent.service' });
  });
});
