// Signed releases through the real package/install.sh and the real openssl: a tarball signed by the
// build's own signing code (package/sign.ts) installs with --trust-key; a tampered one, one signed by
// another key and an unsigned one are refused with NW_PKG_SIGNATURE before any file is written
// (the --root prefix stays empty); the MANIFEST check matches names exactly, not by substring; every
// temp file install.sh made is gone afterwards.
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { COMPONENTS, manifestText, planText, type ComponentSpec } from '../../../package/layout.js';
import { signArtifacts } from '../../../package/sign.js';
import { tempDir } from '../../tmp.js';

const INSTALL_SH = path.resolve('package/install.sh');
const agent: ComponentSpec = COMPONENTS.agent;
const NAME = 'nodewright-agent-9.9.9-linux-x64';

function releaseKeys(): { key: KeyObject; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = path.join(tempDir('nw-relkey-'), 'release.pub');
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { key: privateKey, pub };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every path a package's PLAN needs (layout.ts insists on them), with tiny contents. */
function stagePackage(dir: string, extra: Record<string, string> = {}): void {
  const files: Record<string, string> = {
    [`bin/${agent.bin}`]: '#!/bin/sh\necho fake agent\n',
    'node/bin/node': '#!/bin/sh\n',
    [`systemd/${agent.unit}`]: '[Service]\nExecStart=/opt/nodewright/bin/nodewright-agent run\n',
    [`etc/${agent.config}`]: '# nodewright agent\n',
    ...extra,
  };
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), text, { mode: p.startsWith('bin/') || p === 'node/bin/node' ? 0o755 : 0o644 });
  }
  copyFileSync(INSTALL_SH, path.join(dir, 'install.sh'));
  chmodSync(path.join(dir, 'install.sh'), 0o755);
  const plan = planText([
    { kind: 'file', src: `bin/${agent.bin}`, dest: `/opt/nodewright/bin/${agent.bin}`, mode: 0o755 },
    { kind: 'file', src: 'node/bin/node', dest: '/opt/nodewright/node/bin/node', mode: 0o755 },
    { kind: 'file', src: `systemd/${agent.unit}`, dest: `/etc/systemd/system/${agent.unit}`, mode: 0o644 },
    { kind: 'config', src: `etc/${agent.config}`, dest: `/etc/nodewright/${agent.config}`, mode: 0o600 },
    { kind: 'link', target: `/opt/nodewright/bin/${agent.bin}`, dest: `/usr/local/bin/${agent.bin}` },
    { kind: 'unit', name: agent.unit, wantedBy: 'multi-user.target', startIf: agent.startIf },
  ]);
  writeFileSync(path.join(dir, 'PLAN'), plan);
  const all = [...Object.keys(files), 'install.sh', 'PLAN'];
  writeFileSync(path.join(dir, 'MANIFEST'), manifestText(all.map((p) => ({ path: p, sha256: sha256(path.join(dir, p)) }))));
}

function tarball(stageRoot: string): string {
  const out = path.join(tempDir('nw-rel-'), `${NAME}.tar.gz`);
  const r = spawnSync('tar', ['-C', stageRoot, '-czf', out, NAME], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return out;
}

function builtRelease(): string {
  const stageRoot = tempDir('nw-stage-');
  stagePackage(path.join(stageRoot, NAME));
  return tarball(stageRoot);
}

/** Run install.sh with a private TMPDIR, so what it leaves behind there can be checked. */
function run(script: string, args: string[]): { code: number; out: string; err: string; tmpLeft: string[] } {
  const tmp = tempDir('nw-insttmp-');
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, tmpLeft: readdirSync(tmp) };
}

const walk = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

describe('install.sh --trust-key KEY TARBALL', () => {
  test('a tarball signed with the release key installs; no temp file is left anywhere', () => {
    const { key, pub } = releaseKeys();
    const tgz = builtRelease();
    signArtifacts(key, [tgz]);
    const root = tempDir('nw-root-');
    const r = run(INSTALL_SH, ['--trust-key', pub, tgz, '--root', root]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${NAME}.tar.gz: signature verified with ${pub}`);
    expect(r.out).toContain(`installed ${NAME} under ${root}`);
    expect(r.err).not.toContain('signature not checked');
    expect(readFileSync(path.join(root, 'opt/nodewright/bin', agent.bin), 'utf8')).toContain('fake agent');
    expect(readFileSync(path.join(root, 'etc/nodewright', agent.config), 'utf8')).toBe('# nodewright agent\n');
    expect(walk(root).filter((p) => p.includes('nw-tmp'))).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  });

  const refusals: [string, (tgz: string, pub: string) => string][] = [
    [
      'a tampered tarball (one byte changed after signing)',
      (tgz) => {
        const b = readFileSync(tgz);
        b[b.length >> 1] ^= 0x01;
        writeFileSync(tgz, b);
        return 'does not match';
      },
    ],
    [
      'a tarball signed by another key',
      (tgz) => {
        signArtifacts(generateKeyPairSync('ed25519').privateKey, [tgz]);
        return 'does not match';
      },
    ],
    [
      'an unsigned tarball',
      (tgz) => {
        signArtifacts(null, [tgz]);
        return '.sig is missing';
      },
    ],
  ];
  for (const [what, spoil] of refusals) {
    test(`${what}: NW_PKG_SIGNATURE, nothing written under --root, nothing unpacked`, () => {
      const { key, pub } = releaseKeys();
      const tgz = builtRelease();
      signArtifacts(key, [tgz]);
      const says = spoil(tgz, pub);
      const root = tempDir('nw-root-');
      const r = run(INSTALL_SH, ['--trust-key', pub, tgz, '--root', root]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^NW_PKG_SIGNATURE: /);
      expect(r.err).toContain(says);
      expect(r.out).toBe('');
      expect(readdirSync(root)).toEqual([]);
      expect(r.tmpLeft).toEqual([]);
    });
  }

  test('the standalone install.sh beside the tarballs (dist/pkg/install.sh) needs no package dir of its own', () => {
    const { key, pub } = releaseKeys();
    const tgz = builtRelease();
    signArtifacts(key, [tgz]);
    const standalone = path.join(tempDir('nw-dl-'), 'install.sh');
    copyFileSync(INSTALL_SH, standalone);
    const root = tempDir('nw-root-');
    const r = run(standalone, ['--trust-key', pub, tgz, '--root', root, '--no-start']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(path.join(root, 'opt/nodewright/.installed/nodewright-agent.list'))).toBe(true);
  });

  test('--uninstall through the verified tarball removes what it installed', () => {
    const { key, pub } = releaseKeys();
    const tgz = builtRelease();
    signArtifacts(key, [tgz]);
    const root = tempDir('nw-root-');
    expect(run(INSTALL_SH, ['--trust-key', pub, tgz, '--root', root]).code).toBe(0);
    const r = run(INSTALL_SH, ['--uninstall', '--trust-key', pub, tgz, '--root', root]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('uninstalled nodewright-agent.service');
    expect(walk(root).filter((p) => !p.startsWith('etc'))).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  });

  test('usage: --trust-key without a tarball, a tarball without --trust-key → NW_USAGE', () => {
    const { pub } = releaseKeys();
    const tgz = builtRelease();
    const root = tempDir('nw-root-');
    for (const args of [['--trust-key', pub], [tgz]]) {
      const r = run(INSTALL_SH, [...args, '--root', root]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^NW_USAGE: /);
    }
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('the MANIFEST check matches file names exactly', () => {
  function dirPackage(mutate: (dir: string) => void): string {
    const dir = path.join(tempDir('nw-pkgdir-'), NAME);
    stagePackage(dir, { 'bin/helper-extra': 'x\n' });
    mutate(dir);
    return dir;
  }

  test('a PLAN file whose name is only a prefix of a MANIFEST entry is refused (was accepted by substring)', () => {
    const dir = dirPackage((d) => {
      // bin/helper is installed by PLAN but not listed in MANIFEST; MANIFEST lists bin/helper-extra
      writeFileSync(path.join(d, 'bin/helper'), 'unchecked\n');
      const plan = readFileSync(path.join(d, 'PLAN'), 'utf8') + 'file\tbin/helper\t/opt/nodewright/bin/helper\t0755\n';
      writeFileSync(path.join(d, 'PLAN'), plan);
      const manifest = readFileSync(path.join(d, 'MANIFEST'), 'utf8').replace(/^\S+ {2}PLAN\n/m, `${sha256(path.join(d, 'PLAN'))}  PLAN\n`);
      writeFileSync(path.join(d, 'MANIFEST'), manifest);
    });
    const root = tempDir('nw-root-');
    const r = run(path.join(dir, 'install.sh'), ['--root', root]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('NW_PKG_INTEGRITY: bin/helper is in PLAN but not in MANIFEST');
    expect(readdirSync(root)).toEqual([]);
  });

  test('PLAN is not covered by a MANIFEST line for a longer name (PLAN.orig)', () => {
    const dir = dirPackage((d) => {
      writeFileSync(path.join(d, 'PLAN.orig'), readFileSync(path.join(d, 'PLAN')));
      const manifest = readFileSync(path.join(d, 'MANIFEST'), 'utf8').replace(/^(\S+) {2}PLAN\n/m, '$1  PLAN.orig\n');
      writeFileSync(path.join(d, 'MANIFEST'), manifest);
    });
    const root = tempDir('nw-root-');
    const r = run(path.join(dir, 'install.sh'), ['--root', root]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('NW_PKG_INTEGRITY: PLAN is not covered by MANIFEST');
    expect(readdirSync(root)).toEqual([]);
  });

  test('an unpacked package installs with the exact check, says the signature was not checked, and leaves no temp file', () => {
    const dir = dirPackage(() => {});
    const root = tempDir('nw-root-');
    const r = run(path.join(dir, 'install.sh'), ['--root', root]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('package signature not checked');
    expect(walk(root).filter((p) => p.includes('nw-tmp'))).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  });
});
