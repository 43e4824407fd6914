// Fuzz (bench/fuzz-unit.ts): random and mutated unit texts through every entry point.
// NW_FUZZ_ITERATIONS inputs (default 100k when CI=true, as the README claims; 10k locally), all
// of them: the time budget only guards against a hang, and a run it stops early fails, naming
// how many inputs it ran. Only NwErrors may escape.
import { expect, test } from 'vitest';
import { fuzzUnitParser } from '../../../bench/fuzz-unit.js';

const ci = process.env.CI === 'true';
const iterations = Number(process.env.NW_FUZZ_ITERATIONS ?? (ci ? 100_000 : 10_000));
const seed = Number(process.env.NW_FUZZ_SEED ?? Date.now() % 1_000_000);
const budgetMs = ci ? 540_000 : 120_000;

test(`fuzz: ${iterations} random+mutated unit texts (seed ${seed}; rerun with NW_FUZZ_SEED=${seed}) give only coded errors, no hang`, () => {
  const s = fuzzUnitParser(iterations, seed, undefined, budgetMs);
  console.log(
    `fuzz-unit: ${s.iterations} of ${s.requested} inputs${s.stoppedEarly ? ` (stopped early: the ${budgetMs / 1000} s budget ran out)` : ''}, ${s.parsed} parsed, coded errors ${JSON.stringify(s.codedErrors)}, max ${s.maxMs.toFixed(1)} ms/input, total ${(s.totalMs / 1000).toFixed(1)} s`,
  );
  expect(s.failures).toEqual([]);
  expect(s.iterations, `the fuzz run stopped after ${s.iterations} of ${iterations} inputs`).toBe(iterations);
  expect(s.parsed).toBeGreaterThan(s.iterations / 10); // the mutations keep enough inputs valid to reach the editor
  expect(s.maxMs).toBeLessThan(2000);
}, 600_000);
