// What `--version` prints: version, git commit and runtime. A packaged bundle has the commit baked
// in at package time (esbuild `define` of NW_BUILD_COMMIT, package/bundle.ts); a dev build asks git,
// and only when --version is asked for (never on the daemon's start-up path).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

declare const NW_BUILD_COMMIT: string | undefined;

/** The release version; test/unit/host/build-info.test.ts keeps it equal to package.json's. */
export const VERSION = '0.1.0';

export interface VersionInfo {
  name: string;
  version: string;
  commit: string;
  node: string;
  platform: string;
}

/** The short commit of the checkout (`-dirty` when tracked files changed), or 'unknown' outside git. */
export function gitCommit(dir: string): string {
  const git = (args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return git(['rev-parse', '--short=7', 'HEAD']) + (git(['status', '--porcelain', '--untracked-files=no']) ? '-dirty' : '');
  } catch {
    return 'unknown';
  }
}

export function buildCommit(): string {
  return typeof NW_BUILD_COMMIT === 'string' ? NW_BUILD_COMMIT : gitCommit(path.dirname(fileURLToPath(import.meta.url)));
}

export const versionInfo = (name: string): VersionInfo => ({
  name,
  version: VERSION,
  commit: buildCommit(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
});

/** e.g. `nodewright-agent 0.1.0 (commit 1a2b3c4, node v24.22.3 linux-x64)` */
export const versionLine = (i: VersionInfo): string => `${i.name} ${i.version} (commit ${i.commit}, node ${i.node} ${i.platform})`;

/** `-V, --version` (and `--version --json`), computed only when asked for. */
export function addVersionOption(program: Command): Command {
  return program.option('-V, --version', 'print version, commit and runtime (--json: as JSON)').on('option:version', () => {
    const info = versionInfo(program.name());
    process.stdout.write(`${process.argv.includes('--json') ? JSON.stringify(info) : versionLine(info)}\n`);
    process.exit(0);
  });
}
