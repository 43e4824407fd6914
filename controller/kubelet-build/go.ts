// The operator's Go toolchain: `--go` (the go binary or its bin directory), else `go` on PATH.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { NwError, isNwError } from '../../host/errors.js';
import type { Exec } from '../../host/exec.js';
import type { GoToolchain } from './plan.js';

const INSTALL =
  'Kubernetes v1.10.4 needs Go >= 1.9.3 (the 1.10 releases were built with go1.9.x/1.10.x): unpack https://go.dev/dl/go1.10.8.linux-amd64.tar.gz into /usr/local (tar -C /usr/local -xzf …) and pass --go /usr/local/go/bin';

const isExecutable = async (p: string): Promise<boolean> => {
  try {
    const st = await fsp.stat(p);
    if (!st.isFile()) return false;
    await fsp.access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

async function findGo(flag: string | undefined, searchPath: string): Promise<string> {
  if (flag) {
    const given = path.resolve(flag);
    const st = await fsp.stat(given).catch(() => null);
    const bin = st?.isDirectory() ? path.join(given, 'go') : given;
    if (await isExecutable(bin)) return bin;
    throw new NwError('NW_GO_MISSING', `--go ${flag}: no executable go ${st ? `in ${bin}` : 'there'}. ${INSTALL}`);
  }
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const bin = path.join(dir, 'go');
    if (await isExecutable(bin)) return bin;
  }
  throw new NwError('NW_GO_MISSING', `no go on PATH and no --go given. ${INSTALL}`);
}

/** The toolchain the build will put first on PATH, with `go version` asked once. */
export async function locateGo(exec: Exec, flag: string | undefined, searchPath: string): Promise<GoToolchain> {
  const bin = await fsp.realpath(await findGo(flag, searchPath));
  const binDir = path.dirname(bin);
  const root = path.dirname(binDir);
  const isRoot = (await fsp.stat(path.join(root, 'src', 'runtime')).catch(() => null))?.isDirectory() ?? false;
  let version: string;
  try {
    version = (await exec(bin, ['version'], { timeoutMs: 15_000 })).stdout.trim();
  } catch (e) {
    throw new NwError('NW_GO_MISSING', `${bin} version failed (${isNwError(e) ? e.message : String(e)}): is it a Go toolchain? ${INSTALL}`);
  }
  return { bin, binDir, goroot: isRoot ? root : undefined, version };
}
