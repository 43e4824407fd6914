// The set-up decision `npm run demo` and `npm test` make before building (lab/setup/plan.mjs).
import { describe, expect, test } from 'vitest';
import { parseStamp, planSetup, staleness } from '../../../lab/setup/plan.mjs';

const want = { lock: 'lock-a', deps: 'deps-a', node: 'abi115-linux-x64' };
const facts = (over: Partial<Parameters<typeof planSetup>[0]> = {}) => ({
  want,
  stamp: { ...want },
  nodeModules: 'dir' as const,
  root: true,
  ...over,
});

describe('set-up staleness', () => {
  test('a stamp equal to what is wanted, node_modules present: nothing to do', () => {
    expect(staleness(facts())).toEqual({ debian: false, modules: false });
    expect(planSetup(facts())).toEqual({ steps: [], notes: [], writeStamp: false });
  });

  test('a fresh checkout (no node_modules, so no stamp): Debian packages, then npm ci, then the stamp', () => {
    expect(planSetup(facts({ nodeModules: 'missing', stamp: null }))).toEqual({ steps: ['install-deps', 'npm-ci'], notes: [], writeStamp: true });
  });

  test('node_modules removed while the stamp still matches: npm ci', () => {
    expect(staleness(facts({ nodeModules: 'missing' }))).toEqual({ debian: false, modules: true });
  });

  test('node_modules from before the stamp existed: both run once', () => {
    expect(planSetup(facts({ stamp: null })).steps).toEqual(['install-deps', 'npm-ci']);
  });

  test('package-lock.json changed: only npm ci', () => {
    expect(planSetup(facts({ stamp: { ...want, lock: 'lock-old' } }))).toEqual({ steps: ['npm-ci'], notes: [], writeStamp: true });
  });

  test('another Node ABI or platform (native better-sqlite3): only npm ci', () => {
    expect(planSetup(facts({ stamp: { ...want, node: 'abi137-linux-x64' } })).steps).toEqual(['npm-ci']);
  });

  test('lab/install-deps.sh changed: only the Debian packages', () => {
    expect(planSetup(facts({ stamp: { ...want, deps: 'deps-old' } })).steps).toEqual(['install-deps']);
  });

  test('not root: the Debian packages are only checked (installing them needs root)', () => {
    expect(planSetup(facts({ root: false, stamp: null, nodeModules: 'missing' })).steps).toEqual(['check-deps', 'npm-ci']);
    expect(planSetup(facts({ root: false })).steps).toEqual([]);
  });

  test('node_modules linked from another checkout: never npm ci through the link, no stamp, a note says so', () => {
    const p = planSetup(facts({ nodeModules: 'link', stamp: { ...want, lock: 'lock-other' } }));
    expect(p.steps).toEqual([]);
    expect(p.writeStamp).toBe(false);
    expect(p.notes.join()).toMatch(/link to another checkout.*npm ci/);
    expect(planSetup(facts({ nodeModules: 'link', stamp: null })).steps).toEqual(['install-deps']);
    expect(planSetup(facts({ nodeModules: 'link' }))).toEqual({ steps: [], notes: [], writeStamp: false });
  });
});

describe('the stamp read back from disk', () => {
  test('only a complete stamp counts', () => {
    expect(parseStamp(want)).toEqual(want);
    expect(parseStamp({ ...want, extra: 1 })).toEqual(want);
    for (const bad of [null, 'x', 7, [], {}, { lock: 'a', deps: 'b' }, { ...want, node: 3 }]) expect(parseStamp(bad)).toBeNull();
  });
});
