// Fuzz (bench/fuzz-unit.ts): random and mutated unit texts through every entry point.
// Up to NW_FUZZ_ITERATIONS (default 100k on CI, 10k locally) within a 50 s budget (at least 20k
// on CI); `node dist/bench/fuzz-unit.js 100000` runs the full 100k. Only NwErrors may escape.
import { expect, test } from 'vitest';
import { fuzzUnitParser } from '../../../bench/fuzz-unit.js';

const iterations = Number(process.env.NW_FUZZ_ITERATIONS ?? (process.env.CI === 'true' ? 100_000 : 10_000));
const seed = Number(process.env.NW_FUZZ_SEED ?? Date.now() % 1_000_000);

test(`fuzz: ${iterations} random+mutated unit texts (seed ${seed}; rerun with NW_FUZZ_SEED=${seed}) give only coded errors, no hang`, () => {
  const s = fuzzUnitParser(iterations, seed, undefined, 50_000);
  console.log(`fuzz-unit: ${s.iterations} inputs, ${s.parsed} parsed, coded errors ${JSON.stringify(s.codedErrors)}, max ${s.maxMs.toFixed(1)} ms/input, total ${(s.totalMs / 1000).toFixed(1)} s`);
  expect(s.failures).toEqual([]);
  expect(s.iterations).toBeGreaterThanOrEqual(Math.min(iterations, 20_000));
  expect(s.parsed).toBeGreaterThan(s.iterations / 10); // the mutations keep enough inputs valid to reach the editor
  expect(s.maxMs).toBeLessThan(2000);
}, 600_000);
