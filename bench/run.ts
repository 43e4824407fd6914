// npm run bench -- <ID>: run one benchmark (bench/<ID>.ts); no ID runs all of them.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => /^[PR]\d+\.js$/.test(f))
  .map((f) => f.replace(/\.js$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const ids = wanted.length ? wanted : all;
let failed = false;
for (const id of ids) {
  if (!all.includes(id)) {
    console.error(`NW_USAGE: unknown benchmark ${id}; known: ${all.join(', ') || '(none)'}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`== ${id}`);
  try {
    const mod = (await import(path.join(here, `${id}.js`))) as { run: () => Promise<void> };
    await mod.run();
  } catch (e) {
    failed = true;
    console.error(`${id} failed: ${(e as Error).message}`);
  }
}
if (failed) process.exitCode = 1;
