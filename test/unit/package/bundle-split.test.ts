// package/bundle.ts `split`: dynamic imports become chunks beside the entry, read only when imported.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle } from '../../../package/bundle.js';
import { tempDir } from '../../tmp.js';

describe('a split bundle', () => {
  it('keeps a dynamically imported group out of the entry file, in a chunk beside it that loads when imported', async () => {
    const src = tempDir('nw-split-src-');
    const out = tempDir('nw-split-out-');
    writeFileSync(path.join(src, 'shared.mjs'), "export class Coded extends Error {}\n");
    writeFileSync(path.join(src, 'group.mjs'), "import { Coded } from './shared.mjs';\nexport const fail = () => { throw new Coded('GROUP-CODE-LOADED'); };\n");
    writeFileSync(
      path.join(src, 'entry.mjs'),
      "import { Coded } from './shared.mjs';\nif (process.argv[2] === 'group') { try { (await import('./group.mjs')).fail(); } catch (e) { console.log(e instanceof Coded, e.message); } } else console.log('entry only');\n",
    );
    await bundle({ entry: path.join(src, 'entry.mjs'), outfile: path.join(out, 'nw.mjs'), split: true });
    const files = readdirSync(out).sort();
    expect(files).toContain('nw.mjs');
    const chunks = files.filter((f) => /^nw-[A-Z0-9]+\.mjs$/.test(f));
    expect(chunks.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(out, 'nw.mjs'), 'utf8')).not.toContain('GROUP-CODE-LOADED');
    const run = (args: string[]) => spawnSync(process.execPath, [path.join(out, 'nw.mjs'), ...args], { encoding: 'utf8' });
    expect(run([]).stdout.trim()).toBe('entry only');
    // one copy of the shared class: an error thrown in the chunk is an instance of the entry's class
    expect(run(['group']).stdout.trim()).toBe('true GROUP-CODE-LOADED');
  });
});
