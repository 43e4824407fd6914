// Pure arithmetic of the cephfs quota probe: what statfs should show, how much to write,
// and how to judge what happened. Enforcement is loose (the client learns the usage late),
// so overshoot is bounded, never asserted exactly.
export const MiB = 1024 * 1024;
/** ceph-fuse reports a quota'd directory's size in whole 4 MiB blocks, rounded down. */
export const STATFS_BLOCK = 4 * MiB;

export const expectedDfBytes = (quotaBytes: number) => Math.floor(quotaBytes / STATFS_BLOCK) * STATFS_BLOCK;

/** Bytes past the quota we tolerate before EDQUOT (measured: up to +26 % at 100 MB). */
export const overshootAllowance = (quotaBytes: number) => Math.max(quotaBytes, 64 * MiB);

/** How many 1 MiB blocks the first write tries: quota plus the allowance. */
export const firstWriteBlocks = (quotaBytes: number) => Math.ceil((quotaBytes + overshootAllowance(quotaBytes)) / MiB);

/** statfs size is the quota (in 4 MiB blocks), not the cluster: allow one block of slack. */
export function dfShowsQuota(dfBytes: number, quotaBytes: number): boolean {
  const want = expectedDfBytes(quotaBytes);
  return dfBytes <= quotaBytes && dfBytes >= want - STATFS_BLOCK;
}

export interface DdOutcome {
  exitCode: number;
  bytes: number;
  edquot: boolean;
}

/** Read dd's "N bytes … copied" and whether it stopped on "Disk quota exceeded". */
export function parseDd(exitCode: number, stderr: string): DdOutcome {
  const m = /^(\d+) bytes/m.exec(stderr);
  return { exitCode, bytes: m ? +m[1] : 0, edquot: /Disk quota exceeded/.test(stderr) };
}

export type FirstWriteVerdict = { ok: true } | { ok: false; reason: string };

export function judgeFirstWrite(o: DdOutcome, quotaBytes: number): FirstWriteVerdict {
  if (!o.edquot) {
    return o.exitCode === 0
      ? { ok: false, reason: `wrote ${o.bytes} bytes into a ${quotaBytes}-byte quota without EDQUOT: the client does not enforce the quota (ceph-fuse client_quota off, or a kernel mount?)` }
      : { ok: false, reason: `write failed with something other than EDQUOT after ${o.bytes} bytes` };
  }
  if (o.bytes > quotaBytes + overshootAllowance(quotaBytes)) return { ok: false, reason: `EDQUOT only after ${o.bytes} bytes, more than the quota ${quotaBytes} plus the allowed overshoot` };
  return { ok: true };
}

export function judgeSecondWrite(o: DdOutcome, ms: number, limitMs = 2_000): FirstWriteVerdict {
  if (!o.edquot || o.bytes !== 0) return { ok: false, reason: `a second write after EDQUOT wrote ${o.bytes} bytes${o.edquot ? '' : ' without EDQUOT'}; the quota is not holding` };
  if (ms > limitMs) return { ok: false, reason: `the second write took ${Math.round(ms)} ms to fail (limit ${limitMs} ms)` };
  return { ok: true };
}
