// P8: the controller polling N enrolled agents every 10 s. Simulated agents (bench/sim-agents.ts,
// their own processes, each node on its own loopback address with its own fleet-CA certificate)
// are polled by the real Poller with its SQLite store (bench/fleet-poller.ts), and, as the
// baseline in the same run, by a bare https keep-alive loop with the same agent. Both run with
// RLIMIT_NOFILE raised to the hard limit. Target: 18,000 nodes at < 50 % of one core, RSS < 2 GiB.
// BENCH_P8_NODES=1000,5000 runs other sizes; BENCH_P8_WINDOW_S sets the measured window (default 30).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCa, createKeyAndCsr, signCsr } from '../pki/index.js';
import type { PollResult, PollSpec } from './fleet-poller.js';
import { report } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PER_SIM = 6000; // listeners + connections stay under the 20,000 open files a process may hold
const INTERVAL_MS = 10_000;

/** node SCRIPT SPEC with the open-files limit raised to the hard limit. */
function spawnNode(script: string, spec: string): ChildProcess {
  return spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec node --expose-gc "$0" "$1"', path.join(here, script), spec], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function collect(child: ChildProcess, until?: (out: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (until?.(out)) resolve(out);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${child.spawnargs.at(-2)} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export async function run(): Promise<void> {
  const sizes = (process.env.BENCH_P8_NODES ?? '1000,5000,18000').split(',').map(Number);
  const windowMs = Number(process.env.BENCH_P8_WINDOW_S ?? 30) * 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-p8-'));
  const sims: ChildProcess[] = [];
  const results: PollResult[] = [];
  const t0 = Date.now();
  try {
    const ca = await createCa({ commonName: 'P8 fleet CA' });
    const ctl = await createKeyAndCsr({ commonName: 'ctl-p8' });
    const { certPem } = await signCsr({ ca, csrPem: ctl.csrPem, role: 'controller', name: 'ctl-p8' });
    const file = (name: string, text: string, mode = 0o600) => (writeFileSync(path.join(dir, name), text, { mode }), path.join(dir, name));
    const caCertFile = file('ca.crt', ca.certPem, 0o644);
    const caKeyFile = file('ca.key', ca.keyPem);
    const certFile = file('ctl.crt', certPem, 0o644);
    const keyFile = file('ctl.key', ctl.keyPem);
    for (const n of sizes) {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const ready: Promise<string>[] = [];
      for (let first = 0; first < n; first += PER_SIM) {
        const spec = file(`sim-${n}-${first}.json`, JSON.stringify({ caCertFile, caKeyFile, first, count: Math.min(PER_SIM, n - first), port }), 0o644);
        const sim = spawnNode('sim-agents.js', spec);
        sims.push(sim);
        ready.push(collect(sim, (out) => out.includes('ready\n')));
      }
      await Promise.all(ready);
      for (const mode of ['bare', 'poller'] as const) {
        const spec: PollSpec = { mode, caCertFile, certFile, keyFile, count: n, port, intervalMs: INTERVAL_MS, settleMs: INTERVAL_MS, windowMs };
        const t1 = Date.now();
        const out = await collect(spawnNode('fleet-poller.js', file(`poll-${n}-${mode}.json`, JSON.stringify(spec), 0o644)));
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as PollResult;
        results.push(r);
        console.log(
          `N=${n} ${mode.padEnd(6)} cpu ${r.cpuPct.toFixed(1)} % of one core, RSS ${r.rssMiB.toFixed(0)} MiB, ${r.kibPerConnection.toFixed(1)} KiB/connection, ` +
            `${r.pollsPerSec.toFixed(0)} polls/s (${r.notModifiedPct.toFixed(0)} % 304), sockets ${r.sockets}, errors ${r.errors}, store writes ${r.storeWrites}, ` +
            `first round ${(r.firstRoundMs / 1000).toFixed(1)} s, run ${((Date.now() - t1) / 1000).toFixed(0)} s`,
        );
        // When the simulators cannot answer N/10 polls a second (a loaded machine), say so: the
        // CPU figure then is at the rate reached, and the per-poll cost tells what N/10 would take.
        const perPollMs = (r.cpuPct * 10) / Math.max(r.pollsPerSec, 1e-9);
        const nominal = n / (INTERVAL_MS / 1000);
        if (r.pollsPerSec < 0.9 * nominal) {
          console.log(`  only ${r.pollsPerSec.toFixed(0)} of ${nominal} polls/s reached; ${perPollMs.toFixed(2)} ms CPU a poll → ${((perPollMs * nominal) / 10).toFixed(0)} % of one core at the full rate (linear, fixed costs included)`);
        }
      }
      for (const s of sims.splice(0)) s.kill('SIGKILL');
    }
  } finally {
    for (const s of sims) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const largest = Math.max(...results.filter((r) => r.mode === 'poller').map((r) => r.n));
  const at = results.find((r) => r.mode === 'poller' && r.n === largest)!;
  const base = results.find((r) => r.mode === 'bare' && r.n === largest)!;
  const id = 'P8';
  const metric = largest === 18_000 ? 'cpu_pct_at_18000' : `cpu_pct_at_${largest}`;
  console.log(`poller ÷ bare keep-alive loop at N=${largest}: cpu ${(at.cpuPct / base.cpuPct).toFixed(2)}×, RSS ${at.rssMiB.toFixed(0)} MiB (target < 2048); total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  report({ id, metric, value: Number(at.cpuPct.toFixed(1)), unit: '%', op: '<=', target: 50, extra: { nodes: largest, rssMiB: at.rssMiB, rssOk: at.rssMiB < 2048, results } });
}
