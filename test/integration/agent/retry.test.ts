// `nodewright-agent run` as a real process on a sandbox root retries a reconcile that failed for a
// passing reason (agent/retry.ts): a kubelet download that answers 503 is run again by itself after
// ~5 s (trigger "retry", nothing pushed, no schedule) and converges once the server answers; a
// checksum mismatch is not retried. The download and the kubelet healthz are a real HTTP server;
// only systemctl is stood in for: the agent runs in a private mount namespace (unshare -m, as
// lab/worker/kubelet-wrapper-standin.sh does) where /usr/bin/systemctl is a bind-mounted recorder
// whose "kubelet.service" is always active. The agent runs commands with a fixed PATH, so a
// recorder earlier on PATH would not be found.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_CLI, freePort, requireBuild, sandbox, waitUntil, type Sandbox } from './fixture.js';

const TARGET = '/usr/local/bin/kubelet';
const bin = (v: string) => Buffer.from(`#!/bin/sh\n# kubelet stand-in ${v}\n`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const v1 = bin('v1');
const v2 = bin('v2');
// A year's first minute: no scheduled run can explain a rerun during the test.
const NEVER = '0 0 1 1 *';

let sb: Sandbox;
let agent: ChildProcess;
let server: http.Server;
let base = '';
let logs = '';
/** Whether /kubelet-v2 answers with the binary (true) or 503 (false). */
let serving = false;
const downloads: { path: string; status: number }[] = [];

interface LogLine {
  msg: string;
  trigger?: string;
  ok?: boolean;
  code?: string;
  delayMs?: number;
  time: number;
}
const lines = (): LogLine[] =>
  logs
    .split('\n')
    .slice(0, -1) // complete lines only: the last piece may be half a line still arriving
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const reconciles = () => lines().filter((l) => l.msg === 'reconcile done');
const recorded = () => (existsSync(path.join(sb.dir, 'systemctl.log')) ? readFileSync(path.join(sb.dir, 'systemctl.log'), 'utf8') : '');
const url = (p: string) => `http://127.0.0.1:${sb.port}${p}`;
const status = async () => (await fetch(url('/v1/status'), { headers: { authorization: `Bearer ${sb.token}` } })).json();
const push = (desired: unknown) =>
  fetch(url('/v1/desired'), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sb.token}` }, body: JSON.stringify(sb.sign(desired)) });
const desired = (generation: number, file: string, sha256: string, size: number, version: string) => ({
  schema: 1,
  generation,
  kubelet: { kind: 'binary', version, sha256, size, url: `${base}/${file}` },
});

beforeAll(async () => {
  requireBuild();
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'mount', '--bind', '/dev/null', '/usr/bin/systemctl'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`this test needs a private mount namespace (unshare -m, as root) to stand in for systemctl: ${probe.stderr}`);
  server = http.createServer((req, res) => {
    if (req.url === '/healthz') return res.writeHead(200).end('ok');
    const answer = (s: number, body?: Buffer) => {
      downloads.push({ path: req.url ?? '', status: s });
      res.writeHead(s).end(body);
    };
    if (req.url === '/kubelet-v2') return serving ? answer(200, v2) : answer(503);
    if (req.url === '/kubelet-v3') return answer(200, bin('v3'));
    answer(404);
  });
  const httpPort = await freePort();
  await new Promise<void>((r) => server.listen(httpPort, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${httpPort}`;
  sb = await sandbox(
    `schedule:\n  reconcile: '${NEVER}'\n  probes: '${NEVER}'\nkubelet:\n  healthUrl: ${base}/healthz\n  healthTimeoutSec: 5\n  minHealthySec: 0.2\n`,
  );
  mkdirSync(sb.real('/usr/local/bin'), { recursive: true });
  writeFileSync(sb.real(TARGET), v1, { mode: 0o755 });
  // The agent runs systemctl with a fixed environment: the log path is written into the recorder.
  const recorder = path.join(sb.dir, 'systemctl');
  writeFileSync(
    recorder,
    `#!/bin/sh\necho "$*" >> '${sb.dir}/systemctl.log'\ncase "$1" in is-active) echo active ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  // unshare and sh exec (no fork): agent.pid is the agent's node process.
  agent = spawn(
    'unshare',
    ['-m', '--propagation', 'private', '--', '/bin/sh', '-c', 'r=$1; shift; mount --bind "$r" /usr/bin/systemctl && exec "$@"', 'sh', recorder, 'node', AGENT_CLI, 'run', '--config', sb.config],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  await waitUntil('the agent to listen', () => lines().some((l) => l.msg === 'recovery pass done'), 15_000, () => logs);
});
afterAll(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  sb?.cleanup();
});

describe('agent daemon retries a transient reconcile failure by itself', () => {
  test('a kubelet download answering 503 is retried after ~5 s without a new push, and converges once the server answers', async () => {
    const pushed = await push(desired(1, 'kubelet-v2', sha(v2), v2.length, 'v2'));
    expect(pushed.status).toBe(202);
    // The push's run fails, and so does the drift check its new watch list (the kubelet path) sets off.
    await waitUntil('the push and its drift check to fail', () => reconciles().some((l) => l.trigger === 'watch'), 15_000, () => logs);
    expect(reconciles().map((l) => [l.trigger, l.ok])).toEqual([['desired', false], ['watch', false]]);
    const failed = await status();
    expect(failed.lastReconcile).toMatchObject({ ok: false, generation: 1 });
    expect(failed.lastError).toMatchObject({ code: 'NW_DOWNLOAD', step: 'artifact' });
    expect(failed.lastError.message).toMatch(/answered HTTP 503/);
    expect((await fetch(url('/readyz'))).status).toBe(503);
    expect(readFileSync(sb.real(TARGET), 'utf8')).toContain('v1');

    serving = true;
    await waitUntil('a retry to converge', () => reconciles().some((l) => l.ok === true), 15_000, () => logs);
    const runs = reconciles();
    const fixedBy = runs.findIndex((l) => l.ok === true);
    // The fix came from the first retry: no schedule, no API call, no second push.
    expect(runs.slice(0, fixedBy + 1).map((l) => l.trigger), JSON.stringify(runs)).toEqual(['desired', 'watch', 'retry']);
    // The first retry, ~5 s after the push failed: that drift check did not double the backoff.
    const firstFailure = runs[0];
    expect(runs[fixedBy].time - firstFailure.time).toBeGreaterThanOrEqual(4_900);
    expect(runs[fixedBy].time - firstFailure.time).toBeLessThan(8_000);
    expect(lines().filter((l) => l.delayMs !== undefined).map((l) => l.delayMs)).toEqual([5_000]);
    expect(downloads.filter((d) => d.path === '/kubelet-v2').map((d) => d.status).at(-1)).toBe(200);

    const s = await status();
    // (the swap's own write may have set off a drift check since: it finds the worker converged)
    expect(s.lastReconcile).toMatchObject({ ok: true, generation: 1 });
    expect(s.converged).toBe(true);
    expect(s.lastError).toBeNull();
    expect(s.steps.find((st: { name: string }) => st.name === 'artifact')).toMatchObject({ state: 'changed' });
    expect(s.kubelet).toMatchObject({ version: 'v2', sha256: sha(v2) });
    expect((await fetch(url('/readyz'))).status).toBe(200);
    expect(readFileSync(sb.real(TARGET), 'utf8')).toContain('v2');
    expect(recorded()).toContain('restart kubelet.service');
  }, 40_000);

  test('a checksum mismatch is not retried: one run, one download, nothing for 8 s', async () => {
    const body = bin('v3');
    const pushed = await push(desired(2, 'kubelet-v3', 'f'.repeat(64), body.length, 'v3'));
    expect(pushed.status).toBe(202);
    const pushRun = () => reconciles().findIndex((l, i) => l.trigger === 'desired' && i > 0);
    await waitUntil('the checksum failure', () => pushRun() > 0, 15_000, () => logs);
    const s = await status();
    expect(s.lastReconcile).toMatchObject({ trigger: 'desired', ok: false, generation: 2 });
    expect(s.lastError).toMatchObject({ code: 'NW_CHECKSUM', step: 'artifact' });
    // Runs after the push's other than drift checks (none expected either); 8 s is longer than the
    // first retry's 5 s, so a retry would have run by then.
    const later = () => reconciles().slice(pushRun() + 1);
    const failedAt = Date.now();
    await waitUntil('8 s without another run', () => later().length > 0 || Date.now() - failedAt >= 8_000, 12_000);
    expect(later(), JSON.stringify(later())).toEqual([]);
    expect(lines().filter((l) => l.code === 'NW_CHECKSUM' && l.delayMs !== undefined)).toEqual([]);
    expect(downloads.filter((d) => d.path === '/kubelet-v3')).toHaveLength(1);
    expect((await status()).reconciles).toBe(s.reconciles);
    expect(readFileSync(sb.real(TARGET), 'utf8')).toContain('v2');
  }, 30_000);
});
