// Build the sysext image (package/sysext.ts) from the agent's staged tarball tree with mksquashfs,
// skipped when the inputs are those of the last build.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ComponentSpec, PackageFile } from './layout.js';
import { sh, sha256File } from './runtime.js';
import { extensionRelease, SYSEXT_PREFIX, sysextFileName, sysextName, sysextUnit, sysextWantsLink } from './sysext.js';

export function buildSysext(c: ComponentSpec, version: string, stageDir: string, files: PackageFile[], outDir: string, mtimeEpoch: number): string {
  const out = path.join(outDir, sysextFileName(c, version));
  const unit = sysextUnit(readFileSync(path.join(stageDir, 'systemd', c.unit), 'utf8'), c);
  const release = extensionRelease(version);
  const key = createHash('sha256').update(readFileSync(path.join(stageDir, 'MANIFEST'))).update(unit).update(release).digest('hex');
  const keyFile = `${out}.inputs-sha256`;
  if (existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === key) return out;

  const root = path.join(path.dirname(stageDir), `sysext-${c.component}`);
  rmSync(root, { recursive: true, force: true });
  const put = (rel: string, data: string, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(root, rel), data);
    chmodSync(path.join(root, rel), mode);
  };
  for (const f of files) {
    if (!/^(bin|lib|node)\//.test(f.path)) continue;
    const dest = path.join(root, SYSEXT_PREFIX, f.path);
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
    copyFileSync(path.join(stageDir, f.path), dest);
    chmodSync(dest, f.mode & 0o7777);
  }
  // the commented default config, to copy to /etc/nodewright (the image cannot place it there)
  put(`usr/share/nodewright-agent/${c.config}`, readFileSync(path.join(stageDir, 'etc', c.config), 'utf8'));
  put(`usr/lib/systemd/system/${c.unit}`, unit);
  put(`usr/lib/extension-release.d/extension-release.${sysextName(c)}`, release);
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true, mode: 0o755 });
  symlinkSync(`../lib/nodewright-agent/bin/${c.bin}`, path.join(root, 'usr/bin', c.bin));
  const wants = sysextWantsLink(c);
  mkdirSync(path.dirname(path.join(root, wants.dest)), { recursive: true, mode: 0o755 });
  symlinkSync(wants.target, path.join(root, wants.dest));
  sh('chmod', ['0755', root]);
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  // gzip: every kernel with squashfs reads it (Flatcar's too); level 1: 1.8 s where the default 9 takes
  // 33 s on two cores, for 52 instead of 47 MB. -all-root: files root's, as the host expects under /usr
  sh('mksquashfs', [root, tmp, '-all-root', '-noappend', '-no-progress', '-quiet', '-comp', 'gzip', '-Xcompression-level', '1', '-mkfs-time', String(mtimeEpoch), '-all-time', String(mtimeEpoch), '-processors', '2'], { timeoutMs: 600_000 });
  renameSync(tmp, out);
  rmSync(root, { recursive: true, force: true });
  writeFileSync(`${out}.sha256`, `${sha256File(out)}  ${path.basename(out)}\n`);
  writeFileSync(keyFile, `${key}\n`);
  return out;
}
