// Which agent the P1–P3 benchmarks run, and on which node: the machine's node on dist/ (the dev
// mode, a baseline) and the packaged agent on its own Node 24 (what the targets are about):
//   NW_BENCH_PACKAGE=DIR   an extracted package (node/bin/node, bin/nodewright-agent)
//   otherwise              dist/pkg/nodewright-agent-<version>-linux-x64.tar.gz, extracted to dist/pkg/.bench/
//   NW_BENCH_MODES=machine|package|machine,package (default: every mode found)
// Each runs with the Environment= of the unit it ships with; the bare-node baseline uses the same binary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unitEnvironment } from '../package/layout.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');

export type AgentMode = 'machine' | 'package';

export interface AgentRuntime {
  mode: AgentMode;
  /** The node binary: the agent's and the bare baseline's. */
  node: string;
  /** argv before `run --config …`: the CLI entry (machine) or the package's wrapper (bin/nodewright-agent). */
  command: string[];
  /** The Environment= lines of the unit this agent ships with. */
  unitEnv: Record<string, string>;
  label: string;
}

/**
 * The unit's environment for a sandboxed run: directories systemd would provide under /var/cache
 * (CacheDirectory=) move to `cacheDir`, so a bench never writes to the machine's /var.
 */
export function sandboxEnv(rt: AgentRuntime, cacheDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rt.unitEnv)) out[k] = v.startsWith('/var/cache/') ? path.join(cacheDir, v.slice('/var/cache/'.length)) : v;
  return out;
}

function machine(): AgentRuntime {
  const version = execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim();
  return {
    mode: 'machine',
    node: process.execPath,
    command: [process.execPath, path.join(REPO, 'dist/agent/cli.js')],
    unitEnv: unitEnvironment(readFileSync(path.join(REPO, 'systemd/units/nodewright-agent.service'), 'utf8')),
    label: `machine node ${version} + dist/`,
  };
}

function packageDir(): string | null {
  const given = process.env.NW_BENCH_PACKAGE;
  if (given) return path.resolve(given);
  const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `nodewright-agent-${version}-linux-x64`;
  const tarball = path.join(REPO, 'dist/pkg', `${name}.tar.gz`);
  if (!existsSync(tarball)) return null;
  const into = path.join(REPO, 'dist/pkg/.bench');
  const dir = path.join(into, name);
  const stamp = path.join(dir, 'MANIFEST');
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < statSync(tarball).mtimeMs) {
    mkdirSync(into, { recursive: true });
    execFileSync('tar', ['-C', into, '--touch', '-xzf', tarball]);
  }
  return dir;
}

function packaged(dir: string): AgentRuntime {
  const node = path.join(dir, 'node/bin/node');
  const wrapper = path.join(dir, 'bin/nodewright-agent');
  for (const f of [node, wrapper]) if (!existsSync(f)) throw new Error(`NW_BENCH_PACKAGE=${dir} is not an extracted agent package: ${f} is missing`);
  const unit = path.join(dir, 'systemd/nodewright-agent.service');
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const start = existsSync(path.join(dir, 'lib/nodewright-agent.blob')) ? 'lib/nodewright-agent.blob (snapshot)' : 'lib/nodewright-agent.mjs';
  return {
    mode: 'package',
    node,
    command: [wrapper],
    unitEnv: unitEnvironment(readFileSync(existsSync(unit) ? unit : path.join(REPO, 'systemd/units/nodewright-agent.service'), 'utf8')),
    label: `package node ${version} + ${start} (${path.relative(process.cwd(), dir) || dir})`,
  };
}

/** The runtimes to measure, machine first; the last is the one a benchmark's target is judged on. */
export function agentRuntimes(): AgentRuntime[] {
  const wanted = (process.env.NW_BENCH_MODES ?? 'machine,package').split(',').map((s) => s.trim());
  const out: AgentRuntime[] = [];
  if (wanted.includes('machine')) out.push(machine());
  if (wanted.includes('package')) {
    const dir = packageDir();
    if (dir) out.push(packaged(dir));
    else console.log('package mode skipped: no NW_BENCH_PACKAGE and no dist/pkg/nodewright-agent-*.tar.gz (`npm run package -- --only agent`)');
  }
  if (!out.length) throw new Error(`NW_BENCH_MODES=${process.env.NW_BENCH_MODES}: no runtime to measure`);
  return out;
}

/** `P1 …` numbers of every runtime on one line each, for the side-by-side summary. */
export const sideBySide = (rows: { rt: AgentRuntime; text: string }[]): string => rows.map((r) => `  ${r.rt.mode.padEnd(7)} ${r.text}   [${r.rt.label}]`).join('\n');
