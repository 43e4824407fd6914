import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MiB, dfShowsQuota, expectedDfBytes, firstWriteBlocks, judgeFirstWrite, judgeSecondWrite, overshootAllowance, parseDd } from '../../../ceph/quota-plan.js';
import { parseQuantity } from '../../../ceph/quantity.js';

describe('quota probe arithmetic', () => {
  it('df of a 100 MB quota is 92M (23 × 4 MiB), as measured on the lab', () => {
    expect(expectedDfBytes(100_000_000)).toBe(96_468_992);
    expect(dfShowsQuota(96_468_992, 100_000_000)).toBe(true);
    expect(dfShowsQuota(2_038_431_744, 100_000_000)).toBe(false); // the whole cluster
  });
  it('df size never exceeds the quota and the first write always passes it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4 * MiB, max: 2 ** 40 }), (q) => {
        expect(expectedDfBytes(q)).toBeLessThanOrEqual(q);
        expect(firstWriteBlocks(q) * MiB).toBeGreaterThanOrEqual(q + overshootAllowance(q));
      }),
    );
  });
  it('reads dd output', () => {
    expect(parseDd(1, "dd: error writing '/m/f1': Disk quota exceeded\n96+0 records in\n95+0 records out\n100007936 bytes (100 MB, 95 MiB) copied, 0.63 s, 158 MB/s\n")).toEqual({ exitCode: 1, bytes: 100007936, edquot: true });
    expect(parseDd(1, "dd: error writing '/m/f2': Disk quota exceeded\n1+0 records in\n0+0 records out\n0 bytes copied, 0.01 s, 0.0 kB/s\n")).toEqual({ exitCode: 1, bytes: 0, edquot: true });
  });
  it('judges the writes: EDQUOT within the overshoot passes, none fails', () => {
    expect(judgeFirstWrite({ exitCode: 1, bytes: 125_960_192, edquot: true }, 100_000_000).ok).toBe(true);
    expect(judgeFirstWrite({ exitCode: 1, bytes: 99_876_864, edquot: true }, 100_000_000).ok).toBe(true);
    expect(judgeFirstWrite({ exitCode: 0, bytes: 200 * MiB, edquot: false }, 100_000_000)).toMatchObject({ ok: false });
    expect(judgeFirstWrite({ exitCode: 1, bytes: 5, edquot: false }, 100_000_000)).toMatchObject({ ok: false });
    expect(judgeSecondWrite({ exitCode: 1, bytes: 0, edquot: true }, 12).ok).toBe(true);
    expect(judgeSecondWrite({ exitCode: 1, bytes: 0, edquot: true }, 5000).ok).toBe(false);
    expect(judgeSecondWrite({ exitCode: 0, bytes: MiB, edquot: false }, 5).ok).toBe(false);
  });
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('100Mi')).toBe(104_857_600);
    expect(parseQuantity('100M')).toBe(100_000_000);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('4096')).toBe(4096);
    expect(() => parseQuantity('10 MB')).toThrow(/Kubernetes quantity/);
    expect(() => parseQuantity('0')).toThrow(/out of range/);
  });
});
