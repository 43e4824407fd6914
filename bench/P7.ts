// P7: kill -9 the controller mid-wave → start it again → time from the new process's start to its
// first rollout action (the push in doubt, observed and sent again). The real controller daemon
// (`nodewright controller run`, SQLite store, poller, executor, mutual TLS) drives three agents
// simulated in this process (own loopback address and fleet-CA certificate each): they hold
// generation 1, and each push of the canary's target is received and left unanswered, so the
// controller is always killed with that push in doubt. Median of several kills; target ≤ 2 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lab/ports.js';
import { openSqliteStore } from '../controller/store/sqlite.js';
import { median, report } from './lib.js';
import { agentIssuer } from './sim-certs.js';
import { sampleStatus, simName } from './sim-agents.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../controller/cli.js');
const KILLS = Number(process.env.BENCH_P7_KILLS ?? 5);
const NODES = 3;
const address = (i: number) => `127.77.0.${i + 1}`;

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-p7-'));
  const port = await freePort();
  const agentPort = await freePort();
  let controller: ChildProcess | null = null;
  const servers: https.Server[] = [];
  const t0 = Date.now();
  try {
    const init = spawnSync('node', [CLI, 'init', '--dir', dir, '--listen', `127.0.0.1:${port}`, '--json'], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`nodewright init: ${init.stderr}`);
    const ca = { certPem: readFileSync(path.join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(path.join(dir, 'ca.key'), 'utf8') };
    const issuer = await agentIssuer(ca);
    // Push receipts (performance.now() of this process) and what each simulated agent holds.
    const receipts: number[] = [];
    const held = new Map<string, number>();
    for (let i = 0; i < NODES; i++) {
      const name = simName(i);
      held.set(name, 1);
      const ctx = createSecureContext({ cert: issuer.issue(name), key: issuer.keyPem, ca: ca.certPem });
      const server = https.createServer({ SNICallback: (_n, cb) => cb(null, ctx), ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        if (!(req.socket as TLSSocket).authorized) return void res.writeHead(401).end();
        if (req.method === 'GET' && req.url?.startsWith('/v1/status')) {
          const s = sampleStatus(name);
          s.desired = { generation: held.get(name)!, nodeGroup: 'workers', acceptedAt: '2026-12-01T21:59:50.000Z' };
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(s));
        }
        if (req.method === 'POST' && req.url?.startsWith('/v1/desired')) {
          receipts.push(performance.now());
          req.resume(); // received, never answered: the controller dies with this push in doubt
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(agentPort, address(i), r));
      servers.push(server);
    }
    const store = openSqliteStore({ stateDir: path.join(dir, 'state') });
    const at = new Date().toISOString();
    for (let i = 0; i < NODES; i++) {
      store.putNode({
        name: simName(i), group: 'workers', labels: {}, url: `https://${address(i)}:${agentPort}`, certSha256: 'ab'.repeat(32),
        facts: { hostname: simName(i), addresses: [address(i)], runtime: 'rkt' }, enrolledAt: at,
        health: 'unknown', reason: null, healthSince: at, lastSeenAt: null, generation: null, converged: false, ready: false,
      });
    }
    store.close();
    const log = path.join(dir, 'controller.log');
    const start = () => spawn('bash', ['-c', `exec node ${CLI} controller run --config ${path.join(dir, 'controller.yaml')} 2>>${log} >>${log}`], { stdio: 'ignore' });
    const waitReceipt = async (n: number, ms: number) => {
      const end = Date.now() + ms;
      while (receipts.length < n) {
        if (Date.now() > end) {
          const st = spawnSync('node', [CLI, 'rollout', 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'operator.yaml') } });
          throw new Error(`no push within ${ms} ms; rollouts: ${st.stdout.slice(0, 3000)}; controller log:\n${readFileSync(log, 'utf8').slice(-2000)}`);
        }
        if (controller && controller.exitCode !== null) throw new Error(`the controller exited ${controller.exitCode}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return receipts[n - 1];
    };
    const kill = async () => {
      const c = controller!;
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(c.pid!, 'SIGKILL');
      await exited;
    };
    controller = start();
    // wait for the API, then start a rollout whose canary push will hang
    const desired = path.join(dir, 'desired.yaml');
    writeFileSync(desired, 'runtime: rkt\nkubelet:\n  kind: image\n  version: v2\n  tag: v1.10.13-ceph1\n');
    const env = { ...process.env, NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'operator.yaml') };
    for (let tries = 0; ; tries++) {
      const r = spawnSync('node', [CLI, 'rollout', 'start', '--group', 'workers', '--desired', desired, '--steps', '1,2', '--json'], { encoding: 'utf8', env });
      if (r.status === 0) break;
      if (tries > 100) throw new Error(`rollout start: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    await waitReceipt(1, 30_000);
    const times: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await kill();
      const before = receipts.length;
      const spawnedAt = performance.now();
      controller = start();
      const got = await waitReceipt(before + 1, 60_000);
      times.push(got - spawnedAt);
      console.log(`kill ${k + 1}: first action (the push in doubt, sent again) ${(got - spawnedAt).toFixed(0)} ms after the process started`);
    }
    // Baseline in the same run: the same CLI loading and exiting (`nodewright --help`), i.e. what Node
    // and the module graph cost before the controller does anything of its own.
    const bare: number[] = [];
    for (let k = 0; k < 3; k++) {
      const b0 = performance.now();
      spawnSync('node', [CLI, '--help'], { stdio: 'ignore' });
      bare.push(performance.now() - b0);
    }
    console.log(`baseline: \`nodewright --help\` start to exit, median ${median(bare).toFixed(0)} ms`);
    const med = median(times);
    console.log(`kills=${KILLS} median ${med.toFixed(0)} ms, min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    report({ id: 'P7', metric: 'first_action_after_restart', value: Math.round(med), unit: 'ms', op: '<=', target: 2000, extra: { kills: KILLS, timesMs: times, baselineCliMs: median(bare) } });
  } finally {
    if (controller && controller.exitCode === null && controller.signalCode === null) controller.kill('SIGKILL');
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
