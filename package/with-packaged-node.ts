// `npm run test:node24`: run a command on the packaged Node (the node/bin/node that ships in the
// agent package, dist/pkg/.stage/…), with NW_BETTER_SQLITE3 naming the controller package's
// better-sqlite3, built for that node (the checkout's node_modules copy is built for Node 20;
// vitest.config.ts aliases to it). Needs `npm run package` first (npm test's pretest does it).
//   node dist/package/with-packaged-node.js SCRIPT [ARGS...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPONENTS, packageName } from './layout.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const stage = (c: keyof typeof COMPONENTS) => path.join(repo, 'dist/pkg/.stage', packageName(COMPONENTS[c], version));
const node = path.join(stage('agent'), 'node/bin/node');
const sqlite = path.join(stage('controller'), 'lib/node_modules/better-sqlite3');
for (const p of [node, sqlite]) {
  if (!existsSync(p)) {
    process.stderr.write(`NW_USAGE: ${p} is missing: run \`npm run package\` first\n`);
    process.exit(2);
  }
}
const v = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
process.stderr.write(`on the packaged node ${node} (${v}), better-sqlite3 from ${sqlite}\n`);
const r = spawnSync(node, process.argv.slice(2), { stdio: 'inherit', cwd: repo, env: { ...process.env, NW_BETTER_SQLITE3: sqlite } });
process.exit(r.status ?? 1);
