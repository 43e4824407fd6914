// P8: the controller polling N enrolled agents every 10 s. Simulated agents (bench/sim-agents.ts,
// their own processes, each node on its own loopback address with its own fleet-CA certificate)
// are polled by the real Poller with its SQLite store (bench/fleet-poller.ts), and, as the
// baseline in the same run, by a bare https keep-alive loop with the same agent. Both run with
// RLIMIT_NOFILE raised to the hard limit. Target: 18,000 nodes at < 50 % of one core, RSS < 2 GiB.
// The simulators are several processes (PER_SIM nodes each) so they answer the nominal N/10 polls
// a second; the achieved rate and the simulators' own CPU are printed with every figure, and so is
// the machine's load (other work shares its cores). Mode postgres: the same Poller on the PostgreSQL
// store (HA; every write fenced), its server started from lab/postgres, its CPU printed beside. BENCH_P8_NODES=1000,5000 runs other sizes;
// BENCH_P8_WINDOW_S sets the measured window (default 30 = 3 intervals); BENCH_P8_MODES=poller (or bare,poller,postgres)
// skips the baseline; BENCH_P8_PROFILE=DIR writes a .cpuprofile of the poller's window there and
// prints its hottest functions.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../lab/postgres/lab.js';
import { createCa, createKeyAndCsr, signCsr } from '../pki/index.js';
import type { PollResult, PollSpec } from './fleet-poller.js';
import { report } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PER_SIM = Number(process.env.BENCH_P8_PER_SIM ?? 3000); // listeners + connections: 2 fds a node, well under 20,000
const INTERVAL_MS = 10_000;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** CPU seconds of a PostgreSQL server: the postmaster (with its reaped children) and its live backends. */
function serverCpuSeconds(postmaster: number): number {
  const stat = (pid: number | string) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const m = stat(postmaster);
  let ticks = Number(m[11]) + Number(m[12]) + Number(m[13]) + Number(m[14]);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const f = stat(pid);
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

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
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const l of d.split('\n')) if (l.startsWith('fleet-poller ')) console.log(`  ${l}`);
    });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${child.spawnargs.at(-2)} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export async function run(): Promise<void> {
  const sizes = (process.env.BENCH_P8_NODES ?? '1000,5000,18000').split(',').map(Number);
  const windowMs = Number(process.env.BENCH_P8_WINDOW_S ?? 30) * 1000;
  const modes = (process.env.BENCH_P8_MODES ?? 'bare,poller').split(',') as PollSpec['mode'][];
  const profileDir = process.env.BENCH_P8_PROFILE ? path.resolve(process.env.BENCH_P8_PROFILE) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-p8-'));
  const sims: ChildProcess[] = [];
  const results: PollResult[] = [];
  const t0 = Date.now();
  // mode postgres: a real PostgreSQL from the lab (root), its CPU reported beside the controller's
  const pg = modes.includes('postgres') ? await startPostgres() : null;
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
      const fingerprintsFiles: string[] = [];
      for (let first = 0; first < n; first += PER_SIM) {
        const fingerprintsFile = path.join(dir, `sim-${n}-${first}.sha256.json`);
        fingerprintsFiles.push(fingerprintsFile);
        const spec = file(`sim-${n}-${first}.json`, JSON.stringify({ caCertFile, caKeyFile, first, count: Math.min(PER_SIM, n - first), port, fingerprintsFile }), 0o644);
        const sim = spawnNode('sim-agents.js', spec);
        sims.push(sim);
        ready.push(collect(sim, (out) => out.includes('ready\n')));
      }
      await Promise.all(ready);
      console.log(`N=${n}: ${Math.ceil(n / PER_SIM)} simulator process(es), ${PER_SIM} nodes each at most; load average ${load()}`);
      for (const mode of modes) {
        const profileFile = mode === 'poller' && profileDir ? path.join(profileDir, `P8-poller-${n}.cpuprofile`) : undefined;
        const postgres = mode === 'postgres' && pg ? { url: pg.url(await pg.createDatabase('p8')), password: pg.password } : undefined;
        const spec: PollSpec = { mode, caCertFile, certFile, keyFile, fingerprintsFiles, count: n, port, intervalMs: INTERVAL_MS, settleMs: INTERVAL_MS, windowMs, profileFile, postgres };
        const t1 = Date.now();
        const poller = spawnNode('fleet-poller.js', file(`poll-${n}-${mode}.json`, JSON.stringify(spec), 0o600));
        // the simulators' CPU over the same window, and the load while it runs
        let simCpu0 = 0;
        let pgCpu0 = 0;
        let load0 = '';
        poller.stdout!.on('data', (d: Buffer) => {
          if (!d.toString().includes('window\n')) return;
          simCpu0 = sims.reduce((a, c) => a + cpuSeconds(c.pid!), 0);
          pgCpu0 = pg ? serverCpuSeconds(pg!.pid()) : 0;
          load0 = load();
        });
        const out = await collect(poller);
        const simCpuPct = ((sims.reduce((a, c) => a + cpuSeconds(c.pid!), 0) - simCpu0) / (windowMs / 1000)) * 100;
        const pgCpuPct = mode === 'postgres' ? ((serverCpuSeconds(pg!.pid()) - pgCpu0) / (windowMs / 1000)) * 100 : null;
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as PollResult & { postgresCpuPct?: number };
        results.push(r);
        const nominal = n / (INTERVAL_MS / 1000);
        console.log(
          `N=${n} ${mode.padEnd(6)} cpu ${r.cpuPct.toFixed(1)} % of one core, RSS ${r.rssMiB.toFixed(0)} MiB, ${r.kibPerConnection.toFixed(1)} KiB/connection, ` +
            `${r.pollsPerSec.toFixed(0)} of ${nominal} nominal polls/s (${((r.pollsPerSec / nominal) * 100).toFixed(0)} %; ${r.notModifiedPct.toFixed(0)} % 304), ` +
            `sockets ${r.sockets}, errors ${r.errors}, never answered ${r.unanswered}, store writes ${r.storeWrites} (${r.windowStoreWrites} in the window), ` +
            `first round ${(r.firstRoundMs / 1000).toFixed(1)} s, run ${((Date.now() - t1) / 1000).toFixed(0)} s`,
        );
        if (pgCpuPct !== null) r.postgresCpuPct = Number(pgCpuPct.toFixed(1));
        if (pgCpuPct !== null) console.log(`  PostgreSQL (every postgres process) ${pgCpuPct.toFixed(1)} % of one core in the window`);
        console.log(`  simulators ${simCpuPct.toFixed(0)} % of one core in the window; load average ${load0} at its start, ${load()} at its end (2 cores, shared)`);
        // When the simulators cannot answer N/10 polls a second (a loaded machine), say so: the
        // CPU figure then is at the rate reached, and the per-poll cost tells what N/10 would take.
        const perPollMs = (r.cpuPct * 10) / Math.max(r.pollsPerSec, 1e-9);
        if (r.pollsPerSec < 0.9 * nominal) {
          console.log(`  only ${r.pollsPerSec.toFixed(0)} of ${nominal} polls/s reached; ${perPollMs.toFixed(2)} ms CPU a poll → ${((perPollMs * nominal) / 10).toFixed(0)} % of one core at the full rate (linear, fixed costs included)`);
        }
        if (r.hot) {
          console.log(`  hottest (self time, % of the busy samples; ${profileFile}):`);
          for (const h of r.hot) console.log(`    ${h.selfPct.toFixed(1).padStart(5)} %  ${h.fn}  ${h.at}`);
        }
      }
      for (const s of sims.splice(0)) s.kill('SIGKILL');
    }
  } finally {
    for (const s of sims) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await pg?.stop();
  }
  const largest = Math.max(...results.filter((r) => r.mode === 'poller').map((r) => r.n));
  const at = results.find((r) => r.mode === 'poller' && r.n === largest)!;
  const base = results.find((r) => r.mode === 'bare' && r.n === largest);
  const onPg = results.find((r) => r.mode === 'postgres' && r.n === largest) as (PollResult & { postgresCpuPct?: number }) | undefined;
  if (onPg) console.log(`on the PostgreSQL store at N=${largest}: controller cpu ${onPg.cpuPct.toFixed(1)} % of one core, RSS ${onPg.rssMiB.toFixed(0)} MiB; PostgreSQL ${onPg.postgresCpuPct} % of one core`);
  const id = 'P8';
  const metric = largest === 18_000 ? 'cpu_pct_at_18000' : `cpu_pct_at_${largest}`;
  console.log(`${base ? `poller ÷ bare keep-alive loop at N=${largest}: cpu ${(at.cpuPct / base.cpuPct).toFixed(2)}×, ` : ''}RSS ${at.rssMiB.toFixed(0)} MiB (target < 2048); total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  report({ id, metric, value: Number(at.cpuPct.toFixed(1)), unit: '%', op: '<', target: 50, extra: { nodes: largest, rssMiB: at.rssMiB, rssOk: at.rssMiB < 2048, results } });
}
