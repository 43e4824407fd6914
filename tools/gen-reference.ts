// npm run docs: (re)write docs/reference/ from the schemas, removing pages no schema makes.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REFERENCE_DIR, referenceFiles } from './reference/pages.js';

const dir = path.resolve(process.argv[2] ?? REFERENCE_DIR);
const files = referenceFiles();
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.md') && !files.has(f)) rmSync(path.join(dir, f));
for (const [f, text] of files) writeFileSync(path.join(dir, f), text);
console.log(`wrote ${files.size} files to ${path.relative(process.cwd(), dir) || '.'}`);
