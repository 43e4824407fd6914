// Debian's own checker on the two .debs `npm run package` builds: lintian (errors and warnings, the
// default display) finds nothing but what the packages' own lintian-overrides justify, and each
// override is used (an unused one would be an unused-override hint). dpkg-deb's view of the control
// data: conffiles, maintainer scripts calling Debian's systemd helpers, the unit in /lib/systemd/system.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { debFileName } from '../../../package/deb.js';
import { COMPONENTS } from '../../../package/layout.js';
import { ensureFreshPackage } from '../../e2e/build.js';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const debs = Object.values(COMPONENTS).map((c) => ({ c, file: path.resolve('dist/pkg', debFileName(c, version)) }));

describe('the .debs pass lintian', () => {
  beforeAll(() => {
    if (!existsSync('/usr/bin/lintian')) throw new Error('lintian is missing: run lab/install-deps.sh');
    ensureFreshPackage('lintian');
  }, 900_000);

  test('lintian: no error or warning beyond the justified overrides, no unused override', () => {
    const t0 = Date.now();
    const r = spawnSync('lintian', ['--fail-on', 'error,warning', '--tag-display-limit', '0', '-i', '-L', '+>=info', ...debs.map((d) => d.file)], { encoding: 'utf8', timeout: 600_000 });
    process.stderr.write(`lintian on both .debs: ${Date.now() - t0} ms\n`);
    const hints = r.stdout.split('\n').filter((l) => /^[EWI]: /.test(l));
    expect(hints.filter((l) => /^[EW]: /.test(l)), r.stdout + r.stderr).toEqual([]);
    expect(hints.filter((l) => /unused-override/.test(l)), r.stdout).toEqual([]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 600_000);

  test.each(debs)('$c.component: conffile, unit, command and Debian systemd helpers in the maintainer scripts', ({ c, file }) => {
    const info = (what: string) => spawnSync('dpkg-deb', ['--info', file, what], { encoding: 'utf8' }).stdout;
    expect(info('conffiles')).toBe(`/etc/nodewright/${c.config}\n`);
    expect(info('control')).toMatch(new RegExp(`^Package: nodewright-${c.component}\\nVersion: ${version.replace(/\./g, '\\.')}\\nArchitecture: amd64\\n`));
    expect(info('postinst')).toMatch(new RegExp(`deb-systemd-helper enable '${c.unit}'[\\s\\S]*deb-systemd-invoke \\$_dh_action '${c.unit}'`));
    expect(info('prerm')).toMatch(/"\$1" = remove[\s\S]*deb-systemd-invoke stop/);
    expect(info('postrm')).toMatch(/"\$1" = "purge"[\s\S]*deb-systemd-helper purge[\s\S]*rm -rf \/var\/lib\/nodewright/);
    const list = spawnSync('dpkg-deb', ['--contents', file], { encoding: 'utf8', maxBuffer: 16 << 20 }).stdout;
    expect(list).toMatch(new RegExp(`-rw-r--r-- root/root .* \\./lib/systemd/system/${c.unit}\\n`));
    expect(list).toMatch(new RegExp(`-rw------- root/root .* \\./etc/nodewright/${c.config}\\n`));
    expect(list).toContain(`./usr/bin/${c.bin} -> /opt/nodewright/bin/${c.bin}`);
    expect(list).toMatch(/-rwxr-xr-x root\/root .* \.\/opt\/nodewright\/node\/bin\/node\n/);
    expect(list).not.toMatch(/usr\/local|install\.sh|MANIFEST|PLAN/);
  });
});
