// `npm run bundle` (part of `npm run build`): the dev build's one-file OpenStack CLI,
// dist/controller/commands/openstack-cli.mjs (bench P4), the same esbuild setup as the packages.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NwError } from '../host/errors.js';
import { bundle } from './bundle.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  await bundle({ entry: path.join(dist, 'controller/openstack-cli.js'), outfile: path.join(dist, 'controller/commands/openstack-cli.mjs'), external: ['../api/server.js'] });
} catch (e) {
  process.stderr.write(e instanceof NwError ? `${e.code}: ${e.message}\n` : `${String(e)}\n`);
  process.exitCode = 2;
}
