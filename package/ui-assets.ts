// The dashboard's static files into one directory: htmx and its SSE extension from node_modules
// (the exact pinned version), the fleet module bundled for browsers (controller/ui/client/fleet.ts),
// the style sheet. `npm run build` puts them in dist/controller/ui/static/, the package in
// lib/ui-static/ (controller/ui/assets.ts finds either).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NwError } from '../host/errors.js';

export async function buildUiAssets(repo: string, outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const htmx = path.dirname(createRequire(path.join(repo, 'package.json')).resolve('htmx.org/dist/htmx.min.js'));
  copyFileSync(path.join(htmx, 'htmx.min.js'), path.join(outDir, 'htmx.min.js'));
  copyFileSync(path.join(htmx, 'ext/hx-sse.min.js'), path.join(outDir, 'hx-sse.min.js'));
  copyFileSync(path.join(repo, 'controller/ui/static/ui.css'), path.join(outDir, 'ui.css'));
  try {
    await build({
      entryPoints: [path.join(repo, 'controller/ui/client/fleet.ts')], outfile: path.join(outDir, 'ui.js'),
      bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, legalComments: 'none', logLevel: 'warning',
    });
  } catch (e) {
    throw new NwError('NW_PKG_BUILD', `esbuild failed for the dashboard's ui.js: ${(e as Error).message.split('\n').slice(0, 8).join('\n')}`);
  }
}
