// npm run package: dist/pkg/nodewright-agent-<v>-linux-x64.tar.gz and nodewright-controller-<v>-…,
// each with its own Node 24 (package/runtime.ts), the bundled CLI (package/bundle.ts; the agent's also
// as a start-up snapshot, package/snapshot.ts), the unit
// derived from systemd/units/, the commented default config, install.sh, PLAN and MANIFEST
// (package/layout.ts); from the same staged trees the Debian packages nodewright-agent_<v>_amd64.deb and
// nodewright-controller_<v>_amd64.deb (package/deb.ts, dpkg-deb) and the agent's systemd-sysext image
// nodewright-agent-<v>-x86-64.raw (package/sysext.ts, mksquashfs). Beside them: dist/pkg/install.sh (the same script, for verifying a tarball
// before unpacking it: install.sh --trust-key) and, never inside: dist/pkg/lab/agent-hooked.mjs, the
// lab-only agent entry with phase pauses (lab/worker/provision.sh installs it in lab workers only).
//   NODEWRIGHT_RELEASE_KEY=FILE        sign every artifact (tarballs, .debs, .raw, install.sh): ARTIFACT.sig (package/sign.ts)
//   NW_PKG_CACHE=~/.cache/nodewright   runtime + native builds, reused between runs
//   NW_PKG_OUT=dist/pkg                where the artifacts go (tests build into a temp dir of their own)
//   NW_NODE_RUNTIME_PIN=package/node-runtime.json
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitCommit } from '../host/build-info.js';
import { NwError } from '../host/errors.js';
import { bundle } from './bundle.js';
import { buildDeb, sizeMiB } from './deb-build.js';
import { bundleFile, COMPONENTS, fastFiles, installPlan, manifestText, packagedUnit, packageName, planText, snapshotFile, unitEnvironment, wrapperScript, type ComponentSpec, type PackageFile } from './layout.js';
import { ensureBetterSqlite3 } from './native.js';
import { ensureRuntime, readPin, sh, sha256File, type Runtime } from './runtime.js';
import { RELEASE_KEY_ENV, releaseKey, signArtifacts } from './sign.js';
import { buildSnapshot } from './snapshot.js';
import { buildSysext } from './sysext-build.js';
import { buildUiAssets } from './ui-assets.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string) => process.stderr.write(`package: ${s}\n`);

function walk(root: string, rel = ''): PackageFile[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return walk(root, p);
    if (!e.isFile()) throw new NwError('NW_PKG_BUILD', `${path.join(root, p)}: only regular files go into a package`);
    return [{ path: p, mode: statSync(path.join(root, p)).mode }];
  });
}

function write(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
}

async function stage(c: ComponentSpec, dir: string, rt: Runtime, commit: string, cache: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const unit = packagedUnit(readFileSync(path.join(REPO, 'systemd/units', c.unit), 'utf8'), c);
  const snapshot = c.snapshot && { node: rt.node, side: c.snapshot.side.map((x) => ({ ...x, entry: path.join(REPO, x.entry) })) };
  await bundle({ entry: path.join(REPO, c.entry), outfile: path.join(dir, bundleFile(c)), external: c.external, omit: c.omit, commit, pinoWorkers: true, target: 'node24', snapshot, split: c.split });
  // the dashboard's static files beside the bundle's chunks (controller/ui/assets.ts staticDir)
  if (c.component === 'controller') await buildUiAssets(REPO, path.join(dir, 'lib/ui-static'));
  if (snapshot) buildSnapshot({ node: rt.node, script: path.join(dir, bundleFile(c)), blob: path.join(dir, snapshotFile(c)), nodeOptions: unitEnvironment(unit).NODE_OPTIONS ?? '' });
  if (c.fast) {
    const fast = fastFiles(c)!;
    await bundle({ entry: path.join(REPO, c.fast.entry), outfile: path.join(dir, fast.bundle), external: c.external, omit: [...c.omit, ...c.fast.omit], commit, target: 'node24', snapshot: { node: rt.node } });
    // an operator's shell, not the unit, starts these commands: no NODE_OPTIONS of the unit's
    buildSnapshot({ node: rt.node, script: path.join(dir, fast.bundle), blob: path.join(dir, fast.blob), nodeOptions: '' });
  }
  mkdirSync(path.join(dir, 'node/bin'), { recursive: true });
  copyFileSync(rt.node, path.join(dir, 'node/bin/node'));
  copyFileSync(path.join(rt.dir, 'LICENSE'), path.join(dir, 'node/LICENSE'));
  if (c.external.includes('better-sqlite3')) {
    cpSync(path.join(ensureBetterSqlite3(rt, path.join(REPO, 'package-lock.json'), cache, log), 'node_modules'), path.join(dir, 'lib/node_modules'), { recursive: true });
  }
  write(path.join(dir, `bin/${c.bin}`), wrapperScript(c), 0o755);
  write(path.join(dir, `systemd/${c.unit}`), unit);
  write(path.join(dir, `etc/${c.config}`), readFileSync(path.join(REPO, 'package/etc', c.config), 'utf8'), 0o600);
  write(path.join(dir, 'install.sh'), readFileSync(path.join(REPO, 'package/install.sh'), 'utf8'), 0o755);
  write(path.join(dir, 'PLAN'), planText(installPlan(c, walk(dir))));
  write(path.join(dir, 'MANIFEST'), manifestText(walk(dir).map((f) => ({ path: f.path, sha256: sha256File(path.join(dir, f.path)) }))));
}

/** tar.gz of the staged dir, skipped when the same MANIFEST was packed last time. */
function pack(stageRoot: string, name: string, outDir: string, mtime: string): string {
  const tarball = path.join(outDir, `${name}.tar.gz`);
  const manifestSha = sha256File(path.join(stageRoot, name, 'MANIFEST'));
  const keyFile = `${tarball}.manifest-sha256`;
  if (existsSync(tarball) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === manifestSha) return tarball;
  const tmp = `${tarball}.tmp`;
  sh('sh', ['-c', `tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$2" -cf - "$3" | gzip -n -6 > "$4"`, 'sh', stageRoot, mtime, name, tmp], { timeoutMs: 600_000 });
  renameSync(tmp, tarball);
  write(`${tarball}.sha256`, `${sha256File(tarball)}  ${path.basename(tarball)}\n`);
  write(keyFile, `${manifestSha}\n`);
  return tarball;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const t0 = Date.now();
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
  const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = gitCommit(REPO);
  const key = releaseKey(); // before the slow steps: a bad key fails at once
  const cache = process.env.NW_PKG_CACHE ?? path.join(os.homedir(), '.cache/nodewright');
  const pin = readPin(process.env.NW_NODE_RUNTIME_PIN ?? 'package/node-runtime.json', REPO);
  const rt = ensureRuntime(pin, path.join(cache, 'node'), log);
  const outDir = path.resolve(REPO, process.env.NW_PKG_OUT ?? 'dist/pkg');
  const stageRoot = path.join(outDir, '.stage');
  mkdirSync(stageRoot, { recursive: true });
  const mtime = sh('git', ['-C', REPO, 'log', '-1', '--format=@%ct']).trim() || '@0';
  const installer = path.join(outDir, 'install.sh');
  write(installer, readFileSync(path.join(REPO, 'package/install.sh'), 'utf8'), 0o755);
  const artifacts = [installer];
  for (const c of Object.values(COMPONENTS)) {
    if (only && only !== c.component) continue;
    const name = packageName(c, version);
    await stage(c, path.join(stageRoot, name), rt, commit, cache);
    const tarball = pack(stageRoot, name, outDir, mtime);
    artifacts.push(tarball);
    log(`${path.relative(REPO, tarball)} (${(statSync(tarball).size / 2 ** 20).toFixed(1)} MiB, node v${pin.version}, commit ${commit})`);
    const files = walk(path.join(stageRoot, name));
    const epoch = Number(mtime.slice(1));
    const t1 = Date.now();
    const deb = buildDeb(c, version, path.join(stageRoot, name), files, outDir, epoch);
    artifacts.push(deb);
    log(`${path.relative(REPO, deb)} (${sizeMiB(deb)} MiB, ${Date.now() - t1} ms)`);
    if (c.component === 'agent') {
      const t2 = Date.now();
      const raw = buildSysext(c, version, path.join(stageRoot, name), files, outDir, epoch);
      artifacts.push(raw);
      log(`${path.relative(REPO, raw)} (systemd-sysext, ${sizeMiB(raw)} MiB, ${Date.now() - t2} ms)`);
    }
  }
  const sigs = signArtifacts(key, artifacts);
  log(key ? `signed ${sigs.map((s) => path.relative(REPO, s)).join(', ')}` : `unsigned (set ${RELEASE_KEY_ENV}=FILE to sign the release)`);
  if (!only || only === 'lab') {
    const lab = path.join(outDir, 'lab');
    rmSync(lab, { recursive: true, force: true });
    await bundle({ entry: path.join(REPO, 'lab/worker/agent-hooked.ts'), outfile: path.join(lab, 'agent-hooked.mjs'), omit: COMPONENTS.agent.omit, commit, pinoWorkers: true, target: 'node24' });
    log(`${path.relative(REPO, lab)}/agent-hooked.mjs (lab-only hooked agent, not in any package)`);
  }
  write(path.join(outDir, '.package-stamp'), `${new Date().toISOString()} commit ${commit} in ${Date.now() - t0} ms\n`);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(e instanceof NwError ? `${e.code}: ${e.message}\n` : `NW_INTERNAL: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = e instanceof NwError ? 2 : 1;
  });
}
