// `npm run bundle` (part of `npm run build`): the dev build's one-file OpenStack CLI,
// dist/controller/commands/openstack-cli.mjs (bench P4), the same esbuild setup as the packages, and
// the dashboard's static files in dist/controller/ui/static/ (package/ui-assets.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NwError } from '../host/errors.js';
import { bundle } from './bundle.js';
import { buildUiAssets } from './ui-assets.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  await bundle({ entry: path.join(dist, 'controller/openstack-cli.js'), outfile: path.join(dist, 'controller/commands/openstack-cli.mjs'), external: ['../api/server.js'] });
  await buildUiAssets(path.resolve(dist, '..'), path.join(dist, 'controller/ui/static'));
} catch (e) {
  process.stderr.write(e instanceof NwError ? `${e.code}: ${e.message}\n` : `${String(e)}\n`);
  process.exitCode = 2;
}
