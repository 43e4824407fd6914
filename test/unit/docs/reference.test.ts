// docs/reference/ is what the generator makes from the schemas now (CI runs this: a schema
// changed without `npm run docs` fails here).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PAGES, REFERENCE_DIR, referenceFiles } from '../../../tools/reference/pages.js';
import { code, renderPage, type JsonSchema } from '../../../tools/reference/render.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = path.join(repo, REFERENCE_DIR);
const files = referenceFiles();

describe('docs/reference', () => {
  test.each([...files.keys()])('%s is current', (file) => {
    const onDisk = path.join(dir, file);
    expect(existsSync(onDisk), `${REFERENCE_DIR}/${file} is missing: run npm run docs`).toBe(true);
    expect(readFileSync(onDisk, 'utf8'), `${REFERENCE_DIR}/${file} is not what the generator makes from the schemas now: run npm run docs`).toBe(files.get(file));
  });

  test('holds no page the generator does not make', () => {
    const extra = readdirSync(dir).filter((f) => f.endsWith('.md') && !files.has(f));
    expect(extra, `${REFERENCE_DIR} has pages no schema makes (${extra.join(', ')}): run npm run docs`).toEqual([]);
  });
});

describe('tools/reference/render', () => {
  /** Fields of every object level, the way a reader finds them in the tables. */
  const fieldCount = (s: JsonSchema): number =>
    Object.values(s.properties ?? {}).reduce(
      (n, f) => n + 1 + (f.properties ? fieldCount(f) : 0) + (f.items?.properties ? fieldCount(f.items) : 0) + (f.items?.anyOf ?? []).reduce((m, b) => m + (b.properties ? fieldCount(b) : 0), 0) + (f.anyOf ?? []).reduce((m, b) => m + (b.properties ? fieldCount(b) : 0), 0),
      0,
    );

  test.each(PAGES.map((p) => [p.file, p] as const))('%s has one table row per field', (_f, page) => {
    const rows = renderPage(page).split('\n').filter((l) => /^\| `/.test(l));
    expect(rows.length).toBe(fieldCount(page.schema));
    // a pipe inside a pattern must not split the table cell
    for (const r of rows) expect(r.split(/(?<!\\)\|/).length, r).toBe(8);
  });

  test('escapes pipes in inline code', () => {
    expect(code('a|b')).toBe('`a\\|b`');
    expect(code('x`y')).toBe('`` x`y ``');
  });
});
