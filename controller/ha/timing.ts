// The clocks of leader election, and the one rule that makes self-fencing safe: a leader stops
// acting (bound) before PostgreSQL can hand its lock to anyone else (release). PostgreSQL releases a
// session's advisory lock when the session ends; for a leader that is partitioned or frozen that
// happens only through the server-side timeouts set as startup options of the election session:
//   idle_session_timeout — the backend ends a session that sent nothing for this long (a frozen or
//     partitioned leader stops heartbeating; measured: released 3.0 s after 3000),
//   tcp_user_timeout — the server's socket gives up when data it sent stays unacknowledged this
//     long (a partition with a reply in flight, where keepalive never fires; measured 4.4 s after 4000).
// Both count from the last thing the server heard, which is no earlier than when the leader sent
// its last successful heartbeat, so `boundMs` is measured from that send time.
import { NwError } from '../../host/errors.js';

export interface ElectionTiming {
  /** A follower tries the lock this often. */
  pollMs: number;
  /** The leader (and every follower) writes its heartbeat this often. */
  heartbeatMs: number;
  /** A leader acts only while its last good heartbeat was sent less than this long ago. */
  boundMs: number;
  /** Client-side deadline on every query of the election session (pg `query_timeout`). */
  queryTimeoutMs: number;
  /** Deadline to open the election session. */
  connectTimeoutMs: number;
  /** Server-side: idle_session_timeout of the election session. */
  idleSessionTimeoutMs: number;
  /** Server-side: tcp_user_timeout of the election session. */
  tcpUserTimeoutMs: number;
}

export const DEFAULT_TIMING: ElectionTiming = {
  pollMs: 1000,
  heartbeatMs: 1000,
  boundMs: 4000,
  queryTimeoutMs: 1500,
  connectTimeoutMs: 2000,
  idleSessionTimeoutMs: 5000,
  tcpUserTimeoutMs: 5000,
};

/** When the server lets go of a silent leader's lock, at the earliest. */
export const releaseMs = (t: ElectionTiming): number => Math.min(t.idleSessionTimeoutMs, t.tcpUserTimeoutMs);

/** Margin between the bound and the release (timers fire late, clocks drift). */
export const SAFETY_MARGIN_MS = 500;

/** The timing with defaults filled in, or a coded error naming the setting that breaks the rule. */
export function electionTiming(partial: Partial<ElectionTiming> = {}): ElectionTiming {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const t: ElectionTiming = { ...DEFAULT_TIMING, ...given };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v <= 0) throw new NwError('NW_CONFIG', `HA timing ${k} must be a positive whole number of milliseconds, got ${String(v)}`);
  }
  const fail = (why: string) => {
    throw new NwError('NW_CONFIG', `HA timing is unsafe: ${why}. Keep heartbeatMs + queryTimeoutMs <= boundMs <= min(idleSessionTimeoutMs, tcpUserTimeoutMs) - ${SAFETY_MARGIN_MS}, and heartbeatMs < idleSessionTimeoutMs`, { timing: t });
  };
  if (t.boundMs > releaseMs(t) - SAFETY_MARGIN_MS) fail(`boundMs ${t.boundMs} is not ${SAFETY_MARGIN_MS} ms shorter than the server-side release ${releaseMs(t)} ms, so a deposed leader could act while another leads`);
  if (t.heartbeatMs + t.queryTimeoutMs > t.boundMs) fail(`one heartbeat (${t.heartbeatMs} ms) plus its deadline (${t.queryTimeoutMs} ms) exceeds boundMs ${t.boundMs}, so a healthy leader would fence itself`);
  if (Math.max(t.heartbeatMs, t.pollMs) >= t.idleSessionTimeoutMs) fail(`the session would sit idle (${Math.max(t.heartbeatMs, t.pollMs)} ms between queries) as long as idleSessionTimeoutMs ${t.idleSessionTimeoutMs}`);
  return t;
}

/** The startup options of the election session (pg's `options`: `-c name=value` each). */
export function sessionOptions(t: ElectionTiming): string {
  return [
    `-c idle_session_timeout=${t.idleSessionTimeoutMs}`,
    `-c tcp_user_timeout=${t.tcpUserTimeoutMs}`,
    `-c statement_timeout=${t.queryTimeoutMs}`,
    '-c idle_in_transaction_session_timeout=' + t.idleSessionTimeoutMs,
  ].join(' ');
}
