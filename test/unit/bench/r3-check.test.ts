// R3's verdict (bench/r3-check.ts) and the hostile answers it is built on (bench/hostile-responses.ts).
import { describe, expect, test } from 'vitest';
import { ESCAPES, hostileAnswer, HOSTILE_KINDS, mutateStatus, unsignedGenerations, wrongTypes } from '../../../bench/hostile-responses.js';
import { r3Verdict } from '../../../bench/r3-check.js';
import { sampleStatus } from '../../../bench/sim-agents.js';

/** A small deterministic random source. */
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

describe('r3Verdict', () => {
  const ok = { crashes: 0, responses: 10_000, honestRollout: 'completed', rssPeakMiB: 143.4 };
  test('the last line in the contract shape; PASS only with no crash, enough responses and the honest rollout completed', () => {
    expect(r3Verdict(ok)).toEqual({ pass: true, line: 'R3 crashes=0 responses=10000 honest_rollout=completed rss_peak_mib=143 (target crashes == 0) PASS' });
    expect(r3Verdict({ ...ok, crashes: 3 }).line).toBe('R3 crashes=3 responses=10000 honest_rollout=completed rss_peak_mib=143 (target crashes == 0) MISS');
    expect(r3Verdict({ ...ok, responses: 9_999 }).pass).toBe(false);
    expect(r3Verdict({ ...ok, honestRollout: 'paused' }).pass).toBe(false);
    expect(r3Verdict({ ...ok, responses: 50 }, 50).pass).toBe(true);
  });
});

describe('hostile answers', () => {
  test('every kind is produced, bodies that claim JSON parse, and the wire types match the kind', () => {
    const rnd = seeded(7);
    for (const kind of HOSTILE_KINDS) {
      for (let i = 0; i < 20; i++) {
        const a = hostileAnswer(kind, 'hostile-1', rnd, 12);
        expect(a.kind).toBe(kind);
        if (kind === 'endless') expect(a.type).toBe('endless');
        else if (kind === 'trickle') expect(a).toMatchObject({ type: 'trickle', status: 200 });
        else if (kind === 'reset') {
          expect(a.type).toBe('reset');
          if (a.type === 'reset') expect(a.prefix.length).toBeLessThan(a.declared);
        } else {
          expect(a.type).toBe('body');
          if (a.type === 'body' && kind !== 'garbage') expect(() => JSON.parse(a.body)).not.toThrow();
        }
      }
    }
  });

  test('steps: null, as issue 16 found it', () => {
    const a = hostileAnswer('steps-null', 'n', seeded(1), null);
    const s = a.type === 'body' ? JSON.parse(a.body) : null;
    expect(s.steps).toBeNull();
    expect(s.ready).toBe(false);
  });

  test('unsigned generations are never the signed one, and include 2^53−1, above and below', () => {
    const gs = unsignedGenerations(12);
    expect(gs).not.toContain(12);
    expect(gs).toEqual(expect.arrayContaining([Number.MAX_SAFE_INTEGER, 13, 11, 0, -1, 1.5, '7']));
    const rnd = seeded(3);
    for (let i = 0; i < 50; i++) {
      const a = hostileAnswer('unsigned-generation', 'n', rnd, 12);
      const s = a.type === 'body' ? JSON.parse(a.body) : null;
      expect(s.desired.generation).not.toBe(12);
      expect(s).toMatchObject({ converged: true, ready: true });
    }
  });

  test('escapes put control characters into every text the controller may store or print', () => {
    const rnd = seeded(5);
    for (let i = 0; i < 20; i++) {
      const a = hostileAnswer('escapes', 'n', rnd, null);
      const s = a.type === 'body' ? JSON.parse(a.body) : null;
      // eslint-disable-next-line no-control-regex
      const control = /[\x00-\x1f\x7f-\x9f\u202e]/;
      expect(s.lastError.message).toMatch(control);
      expect(s.facts.hostname).toMatch(control);
      expect(s.steps.every((st: { message: string }) => control.test(st.message))).toBe(true);
    }
    expect(ESCAPES.some((e) => e.includes('\x1b]'))).toBe(true);
  });

  test('a mutation replaces exactly one value of a real status; wrong types change every field but keep the keys', () => {
    const s = sampleStatus('n');
    const m = mutateStatus(s, seeded(9), '__X__') as Record<string, unknown>;
    expect(JSON.stringify(m).split('__X__').length - 1).toBe(1);
    const w = wrongTypes('n', seeded(2));
    expect(Object.keys(w).sort()).toEqual(Object.keys(s).sort());
    expect(w.agent).not.toEqual(s.agent);
  });
});
