// The e2e setups' build check (test/e2e/build.ts) with the real tsc on a tiny project: a type
// error fails the setup with tsc's message, a good build is stamped, a later source edit rebuilds.
// And the repository is found from a bundled copy too (benches run the labs from /tmp).
import { mkdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { importBundled } from '../../bench/bundle-ts.js';
import { ensureFreshBuild, repoRoot } from '../e2e/build.js';
import { tempDir } from '../tmp.js';

const tsc = path.resolve('node_modules/.bin/tsc');

test('ensureFreshBuild: fails on a type error, builds and stamps when it compiles, skips while fresh', () => {
  const repo = tempDir('nw-e2e-build-');
  mkdirSync(path.join(repo, 'src'));
  writeFileSync(path.join(repo, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, outDir: 'dist', rootDir: '.' }, include: ['src'] }));
  const src = path.join(repo, 'src/a.ts');
  writeFileSync(src, 'export const n: number = "not a number";\n');
  expect(() => ensureFreshBuild('x', { repo, tsc })).toThrow(/e2e-x: `tsc -p tsconfig.json` failed \(exit 2\), so dist\/ would be stale[\s\S]*TS2322/);
  expect(existsSync(path.join(repo, 'dist/.build-stamp'))).toBe(false);

  writeFileSync(src, 'export const n: number = 1;\n');
  expect(ensureFreshBuild('x', { repo, tsc })).toBe('built');
  expect(existsSync(path.join(repo, 'dist/src/a.js'))).toBe(true);
  expect(ensureFreshBuild('x', { repo, tsc })).toBe('fresh');

  // a source newer than the stamp that no longer compiles: not fresh, and the failure is reported again
  writeFileSync(src, 'export const n: number = "again";\n');
  const future = new Date(Date.now() + 5000);
  utimesSync(src, future, future);
  expect(() => ensureFreshBuild('x', { repo, tsc })).toThrow(/TS2322/);
  expect(existsSync(path.join(repo, 'dist/.build-stamp'))).toBe(false);
}, 60_000);

test('repoRoot: the e2e build helpers find the repository when bundled outside it (bench P5 runs the lab setup from /tmp)', async () => {
  const repo = path.resolve('.');
  const out = path.join(tempDir('nw-bundled-'), 'build.mjs');
  const bundled = await importBundled<typeof import('../e2e/build.js')>(path.join(repo, 'test/e2e/build.ts'), out);
  expect(bundled.repoRoot()).toBe(repo);
  expect(bundled.repoRoot({ cwd: path.join(repo, 'docs') })).toBe(repo);
  expect(() => bundled.repoRoot({ cwd: path.dirname(out) })).toThrow(/no nodewright checkout above .* or the working directory .*: run this from the repository/);
  // from its own place the checkout holding the file wins, whatever the working directory
  expect(repoRoot({ cwd: '/' })).toBe(repo);
});
