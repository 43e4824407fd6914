// Peak RSS of the agent process while the artifact step installs a large kubelet binary
// (default 512 MiB) over HTTP on a sandbox root: download, hash, cache, keep the previous
// binary, swap, health gate. systemctl is a recorder; the download and healthz are real HTTP.
//   node dist/bench/artifact-rss.js [MiB]
// Prints `artifact-rss mib=<n> peakRssMiB=<n> baselineRssMiB=<n> state=<step state>`.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createHost } from '../host/index.js';
import type { Exec } from '../host/exec.js';
import { parseAgentConfig } from '../agent/config.js';
import { StateStore } from '../agent/state.js';
import { reconcileOnce } from '../agent/reconcile.js';
import type { StepContext } from '../agent/steps/types.js';

const mib = Number(process.argv[2] ?? 512);
const dir = mkdtempSync('/tmp/nw-artifact-rss-');
const rootDir = path.join(dir, 'root');
mkdirSync(path.join(rootDir, 'usr/local/bin'), { recursive: true });

/** Write `n` MiB of deterministic bytes (1 MiB chunks), returning sha256 and size. */
function makeFile(file: string, n: number, seed: string): { sha256: string; size: number } {
  const h = createHash('sha256');
  const fd = openSync(file, 'w', 0o755);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < n; i++) {
    chunk.fill(`${seed}-${i}-`);
    h.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return { sha256: h.digest('hex'), size: n * 1024 * 1024 };
}

makeFile(path.join(rootDir, 'usr/local/bin/kubelet'), mib, 'v1');
const source = path.join(dir, 'kubelet-v2');
const v2 = makeFile(source, mib, 'v2');

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.writeHead(200).end();
  res.writeHead(200, { 'content-length': String(v2.size) });
  createReadStream(source).pipe(res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;

const exec: Exec = async (file, args) => ({ command: file, exitCode: 0, stdout: args[0] === 'is-active' ? 'active\n' : '', stderr: '', durationMs: 0 });
const host = createHost({ root: rootDir, exec });
const config = parseAgentConfig(
  `root: ${rootDir}\nkubelet:\n  healthUrl: http://127.0.0.1:${port}/healthz\n  healthTimeoutSec: 5\n  minHealthySec: 0.5\nlimits:\n  artifactBytes: ${v2.size}\n`,
  'bench.yaml',
);
const ctx = { host, config, state: new StateStore(host), log: pino({ level: 'silent' }), publicKey: null } as unknown as StepContext;
await ctx.state.load();

const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const r = await reconcileOnce(ctx, { schema: 1, generation: 1, kubelet: { kind: 'binary', version: 'v2', sha256: v2.sha256, size: v2.size, url: `http://127.0.0.1:${port}/kubelet-v2` } }, 'bench');
clearInterval(sampler);
// maxRSS (KiB) covers the moments between samples.
peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
const art = r.steps.find((s) => s.name === 'artifact');
server.close();
rmSync(dir, { recursive: true, force: true });
const toMiB = (b: number) => Math.round(b / 1024 / 1024);
console.log(`artifact-rss mib=${mib} peakRssMiB=${toMiB(peak)} baselineRssMiB=${toMiB(baseline)} state=${art?.state} ${art?.state === 'changed' ? '' : art?.message}`);
