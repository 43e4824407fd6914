// P9: HA failover, fault → the new leader's first fenced write (BEGIN; FENCE_SQL; COMMIT succeeding),
// with two election members as real processes on a real PostgreSQL 15 (lab/postgres/election-faults.ts).
// Faults: kill -9 of the leader, and a partition of the leader (iptables drops its loopback address
// inside a private network namespace). Medians of BENCH_P9_RUNS runs (default 3). Baseline in the
// same run: the partition with the server-side timeouts of the election session left at
// PostgreSQL's defaults (a day here; off by default), capped at 20 s — the lock is never released.
// Also printed: the server-side release of the lock (pg_locks, 25 ms resolution) and when the old
// leader fenced itself. Targets: ≤ 2000 ms after kill -9, ≤ 8000 ms after a partition.
import { DEFAULT_TIMING } from '../controller/ha/timing.js';
import { FREEZE, killTakeover, measureTakeover, partitionTakeover, terminateSession } from '../lab/postgres/election-faults.js';
import { startPostgres } from '../lab/postgres/lab.js';
import { median, writeResult } from './lib.js';

const KILL_TARGET = 2000;
const PARTITION_TARGET = 8000;
const BASELINE_CAP = 20_000;

const fmt = (xs: (number | null)[]) => xs.map((x) => (x === null ? '-' : String(x))).join(',');

export async function run(): Promise<void> {
  const runs = Number(process.env.BENCH_P9_RUNS ?? 3);
  const t = DEFAULT_TIMING;
  console.log(`  timing: poll ${t.pollMs} ms, heartbeat ${t.heartbeatMs} ms, bound ${t.boundMs} ms, query deadline ${t.queryTimeoutMs} ms, idle_session_timeout ${t.idleSessionTimeoutMs} ms, tcp_user_timeout ${t.tcpUserTimeoutMs} ms`);
  const lab = await startPostgres();
  const kill: number[] = [];
  const killRelease: (number | null)[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const r = await killTakeover(lab, await lab.createDatabase('p9'));
      if (r.newEpoch !== r.oldEpoch + 1) throw new Error(`kill -9: epoch ${r.oldEpoch} → ${r.newEpoch}`);
      kill.push(r.takeoverMs ?? Infinity);
      killRelease.push(r.releaseMs);
    }
    // For the record (not targets): a frozen leader and a terminated election session.
    const frozen = await measureTakeover(lab, await lab.createDatabase('p9'), FREEZE, { capMs: 15_000 });
    console.log(`  SIGSTOP (info): takeover_ms ${frozen.takeoverMs ?? '-'}, lock released after ${frozen.releaseMs ?? '-'} ms, after SIGCONT lease ${JSON.stringify(frozen.oldLease)}, old lease refused: ${frozen.oldFenceOk === false}`);
    const tdb = await lab.createDatabase('p9');
    const term = await measureTakeover(lab, tdb, terminateSession(lab, tdb), { capMs: 10_000 });
    console.log(`  pg_terminate_backend (info): takeover_ms ${term.takeoverMs ?? '-'}, lock released after ${term.releaseMs ?? '-'} ms, old leader deposed after ${term.oldDeposedMs ?? '-'} ms, old lease refused: ${term.oldFenceOk === false}`);
  } finally {
    await lab.stop();
  }
  console.log(`  kill -9: takeover_ms ${fmt(kill)} (median ${median(kill)}), lock released after ${fmt(killRelease)} ms`);

  const part: number[] = [];
  const safe: boolean[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await partitionTakeover({ capMs: 15_000 });
    part.push(r.takeoverMs ?? Infinity);
    // The old leader stopped acting before the new one wrote, and its old lease is refused.
    safe.push(r.oldDeposedMs !== null && r.takeoverMs !== null && r.oldDeposedMs < r.takeoverMs && r.oldFenceOk === false && r.oldLease === null);
    console.log(`  partition run ${i + 1}: takeover_ms ${r.takeoverMs ?? '>15000'}, lock released after ${r.releaseMs ?? '-'} ms, old leader fenced itself after ${r.oldDeposedMs ?? '-'} ms, old lease refused after healing: ${r.oldFenceOk === false}`);
  }
  const base = await partitionTakeover({ capMs: BASELINE_CAP, timing: { idleSessionTimeoutMs: 86_400_000, tcpUserTimeoutMs: 86_400_000 } });
  const baseText = base.takeoverMs === null ? `>${BASELINE_CAP}` : String(base.takeoverMs);
  console.log(`  baseline (server-side timeouts at defaults): takeover_partition_ms ${baseText}, lock released after ${base.releaseMs ?? `>${BASELINE_CAP}`} ms, old leader fenced itself after ${base.oldDeposedMs ?? '-'} ms`);

  const killMs = median(kill);
  const partMs = median(part);
  const pass = killMs <= KILL_TARGET && partMs <= PARTITION_TARGET && safe.every(Boolean);
  if (!safe.every(Boolean)) console.log('  MISS: a partitioned leader was not fenced before the new leader wrote');
  writeResult('P9', { takeover_kill_ms: killMs, takeover_partition_ms: partMs, kill, partition: part, killRelease, baselinePartitionMs: base.takeoverMs, baselineCapMs: BASELINE_CAP, runs, timing: t, pass });
  console.log(`P9 takeover_kill_ms=${killMs} takeover_partition_ms=${Number.isFinite(partMs) ? partMs : '>15000'} (target ≤${KILL_TARGET} / ≤${PARTITION_TARGET}) ${pass ? 'PASS' : 'MISS'}`);
}
