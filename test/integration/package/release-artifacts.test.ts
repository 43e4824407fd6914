// Every artifact of a release build is signed with the release key (package/sign.ts): the agent's
// tarball, .deb and sysext image and the standalone install.sh each get ARTIFACT.sig, which plain
// OpenSSL verifies with the public key; a changed byte does not verify. The real packager, into a
// temp dir of its own (NW_PKG_OUT), so dist/pkg and the other tests' packages are never touched.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../../tmp.js';

const verify = (pub: string, file: string, sig = `${file}.sig`) =>
  spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', file, '-sigfile', sig], { encoding: 'utf8' });

describe('a signed release build', () => {
  test('tarball, .deb, sysext .raw and install.sh each carry a .sig that openssl verifies', () => {
    if (!existsSync('dist/package/build.js')) throw new Error('dist/ is not built: npm run build');
    const keys = tempDir('nw-relkey-');
    const out = tempDir('nw-release-');
    const key = path.join(keys, 'release.key');
    const gen = spawnSync(process.execPath, ['dist/controller/cli.js', 'keygen', '--out', key], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const t0 = Date.now();
    const b = spawnSync(process.execPath, ['dist/package/build.js', '--only', 'agent'], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, NODEWRIGHT_RELEASE_KEY: key, NW_PKG_OUT: out } });
    expect(b.status, b.stderr).toBe(0);
    process.stderr.write(`release build of the agent (tarball, .deb, .raw) in ${Date.now() - t0} ms\n`);
    const artifacts = readdirSync(out).filter((f) => /\.(tar\.gz|deb|raw)$|^install\.sh$/.test(f)).sort();
    expect(artifacts.map((f) => f.replace(/\d+\.\d+\.\d+[^_-]*/, 'V'))).toEqual(['install.sh', 'nodewright-agent-V-linux-x64.tar.gz', 'nodewright-agent-V-x86-64.raw', 'nodewright-agent_V_amd64.deb']);
    for (const f of artifacts) {
      const r = verify(`${key}.pub`, path.join(out, f));
      expect(r.stdout + r.stderr, f).toMatch(/Signature Verified Successfully/);
    }
    // one byte more in the .deb: its signature no longer holds
    const deb = artifacts.find((f) => f.endsWith('.deb'))!;
    const changed = path.join(keys, deb);
    copyFileSync(path.join(out, deb), changed);
    appendFileSync(changed, '\n');
    expect(verify(`${key}.pub`, changed, path.join(out, `${deb}.sig`)).status).not.toBe(0);
  }, 600_000);
});
