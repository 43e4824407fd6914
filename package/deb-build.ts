// Build a component's .deb from its staged tarball tree (package/build.ts) with dpkg-deb; the plan
// and the control files come from package/deb.ts. Skipped when the staged MANIFEST and the deb
// inputs are what the last build used (npm test packages on every run).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ComponentSpec, PackageFile } from './layout.js';
import { debChangelog, debConffiles, debControl, debCopyright, debFileName, debFiles, debPackage, debPostinst, debPostrm, debPrerm, lintianOverrides } from './deb.js';
import { sh, sha256File } from './runtime.js';

function put(file: string, data: string | Buffer, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, data);
  chmodSync(file, mode);
}

/** dist/pkg/<package>_<version>_amd64.deb from `stageDir` (files: its walk). */
export function buildDeb(c: ComponentSpec, version: string, stageDir: string, files: PackageFile[], outDir: string, mtimeEpoch: number): string {
  const out = path.join(outDir, debFileName(c, version));
  const plan = debFiles(c, files);
  const date = new Date(mtimeEpoch * 1000);
  const text: Record<string, { data: string | Buffer; mode: number }> = {
    'DEBIAN/conffiles': { data: debConffiles(plan), mode: 0o644 },
    'DEBIAN/postinst': { data: debPostinst(c), mode: 0o755 },
    'DEBIAN/prerm': { data: debPrerm(c), mode: 0o755 },
    'DEBIAN/postrm': { data: debPostrm(c), mode: 0o755 },
    [`usr/share/lintian/overrides/${debPackage(c)}`]: { data: lintianOverrides(c), mode: 0o644 },
    [`usr/share/doc/${debPackage(c)}/copyright`]: { data: debCopyright(), mode: 0o644 },
    [`usr/share/doc/${debPackage(c)}/changelog.gz`]: { data: gzipSync(debChangelog(c, version, date), { level: 9 }), mode: 0o644 },
  };
  const key = createHash('sha256')
    .update(readFileSync(path.join(stageDir, 'MANIFEST')))
    .update(JSON.stringify({ version, plan, text: Object.entries(text).map(([k, v]) => [k, createHash('sha256').update(v.data).digest('hex')]) }))
    .digest('hex');
  const keyFile = `${out}.inputs-sha256`;
  if (existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === key) return out;

  const root = path.join(path.dirname(stageDir), `deb-${c.component}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { mode: 0o755 });
  for (const f of plan.map) {
    const dest = path.join(root, f.dest);
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
    copyFileSync(path.join(stageDir, f.src), dest);
    chmodSync(dest, f.mode);
  }
  for (const l of plan.links) {
    mkdirSync(path.dirname(path.join(root, l.dest)), { recursive: true, mode: 0o755 });
    symlinkSync(l.target, path.join(root, l.dest));
  }
  for (const [rel, t] of Object.entries(text)) put(path.join(root, rel), t.data, t.mode);
  // DEBIAN/md5sums, as dh_md5sums writes it (debsums checks installed files against it)
  const md5 = [...plan.map.map((f) => f.dest), ...Object.keys(text).filter((k) => !k.startsWith('DEBIAN/')).map((k) => `/${k}`)]
    .filter((d) => !plan.conffiles.includes(d))
    .sort()
    .map((d) => `${createHash('md5').update(readFileSync(path.join(root, d))).digest('hex')}  ${d.slice(1)}\n`)
    .join('');
  put(path.join(root, 'DEBIAN/md5sums'), md5, 0o644);
  const installedKiB = Number(sh('du', ['-s', '-k', '--exclude=DEBIAN', root]).split('\t')[0]);
  put(path.join(root, 'DEBIAN/control'), debControl(c, version, installedKiB), 0o644);
  // every mtime the commit's (changelog.gz's gzip header has none): the same commit, the same .deb
  sh('find', [root, '-exec', 'touch', '-h', '-d', `@${mtimeEpoch}`, '{}', '+']);
  sh('chmod', ['0755', root, path.join(root, 'DEBIAN')]);
  const tmp = `${out}.tmp`;
  // gzip -1: 2 s for the 120 MB node binary where -6 takes 8 s (xz far longer) for 10 % less (54.5 vs 49 MB):
  // npm test packages on every run
  sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', root, tmp], { timeoutMs: 600_000, env: { ...process.env, SOURCE_DATE_EPOCH: String(mtimeEpoch) } });
  renameSync(tmp, out);
  rmSync(root, { recursive: true, force: true });
  writeFileSync(`${out}.sha256`, `${sha256File(out)}  ${path.basename(out)}\n`);
  writeFileSync(keyFile, `${key}\n`);
  return out;
}

export const sizeMiB = (file: string): string => (statSync(file).size / 2 ** 20).toFixed(1);
