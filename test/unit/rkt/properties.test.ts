// Property tests of the RKT_RUN_ARGS model (fast-check; ≥10k cases when CI=true).
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ensureBindMount, parseRktArgs, type BindMount } from '../../../rkt/args.js';
import { NwError } from '../../../host/errors.js';
import { bindMount, numRuns, rktValue } from '../../fixtures/units/generate.js';

const tokens = (v: string) => v.split(/[ \t\n\r]+/).filter(Boolean);

/** Tokens that do not belong to volume m.name (its --volume, its --mount, their flags). */
function others(v: string, m: BindMount): string[] {
  const a = parseRktArgs(v);
  const mine = new Set<number>();
  for (const x of [...a.volumes.filter((y) => y.name === m.name), ...a.mounts.filter((y) => y.volume === m.name)]) {
    mine.add(x.token);
    if (!x.joined) mine.add(x.token - 1);
  }
  return tokens(v).filter((_, i) => !mine.has(i));
}

const ensure = (v: string, m: BindMount) => {
  try {
    return ensureBindMount(v, m);
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    expect((e as NwError).code).toBe('NW_RKT_CONFLICT');
    return null;
  }
};

describe('ensureBindMount properties', () => {
  test('idempotent: a second ensure changes nothing', () => {
    fc.assert(
      fc.property(rktValue, bindMount, (v, m) => {
        const r1 = ensure(v, m);
        if (!r1) return;
        const r2 = ensureBindMount(r1.value, m);
        expect(r2.changed).toBe(false);
        expect(r2.value).toBe(r1.value);
        expect(r2.summary).toMatch(/already present/);
      }),
      { numRuns: numRuns() },
    );
  });

  test('after an edit the pair is present exactly once and every other token is unchanged', () => {
    fc.assert(
      fc.property(rktValue, bindMount, (v, m) => {
        const r = ensure(v, m);
        if (!r) return;
        const a = parseRktArgs(r.value);
        const vols = a.volumes.filter((x) => x.name === m.name);
        expect(vols).toHaveLength(1);
        const f = Object.fromEntries(vols[0].fields.map((x) => [x.key, x.value]));
        expect(f.kind).toBe('host');
        expect(f.source).toBe(m.source);
        expect((f.readOnly ?? 'false') === 'true').toBe(m.readOnly === true);
        expect(a.mounts.filter((x) => x.volume === m.name && x.target === m.target)).toHaveLength(1);
        expect(a.mounts.filter((x) => x.target === m.target)).toHaveLength(1);
        expect(others(r.value, m)).toEqual(others(v, m));
        // separators (the author's layout) of the original value are kept as a prefix pattern
        if (!r.changed) expect(r.value).toBe(v);
      }),
      { numRuns: numRuns() },
    );
  });
});
