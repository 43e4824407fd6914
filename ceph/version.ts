// `ceph-fuse --version` / `ceph --version`: "ceph version 16.2.15 (sha) pacific (stable)".
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';

export interface CephVersion {
  major: number;
  minor: number;
  patch: number;
  codename?: string;
  raw: string;
}

export function parseCephVersion(text: string): CephVersion {
  const m = /ceph version (\d+)\.(\d+)\.(\d+)\S*(?: \([0-9a-f]+\))?(?: ([a-z]+))?/.exec(text);
  if (!m) throw new NwError('NW_CEPH', `cannot read a ceph version from ${JSON.stringify(text.trim().slice(0, 120))}`);
  return { major: +m[1], minor: +m[2], patch: +m[3], codename: m[4], raw: text.trim() };
}

/** Jewel (10) and older need `--client-quota` for ceph-fuse to enforce quotas; Luminous (12)+ always do. */
export const needsClientQuotaFlag = (v: CephVersion) => v.major < 12;

export async function detectVersion(host: Host, tool: 'ceph-fuse' | 'rbd' | 'ceph' = 'ceph-fuse'): Promise<CephVersion> {
  const r = await host.exec(tool, ['--version'], { timeoutMs: 10_000 }).catch((e: unknown) => {
    if (e instanceof NwError && e.code === 'NW_EXEC_MISSING') {
      throw new NwError('NW_EXEC_MISSING', `${tool} is not installed: install ceph-common and ceph-fuse (lab/install-deps.sh on the lab machine)`);
    }
    throw e;
  });
  return parseCephVersion(r.stdout + r.stderr);
}
