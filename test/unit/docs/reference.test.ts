// docs/reference/ is what the generator makes from the schemas now (CI runs this: a schema
// changed without `npm run docs` fails here).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { REFERENCE_DIR, referenceFiles } from '../../../tools/reference/pages.js';

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
