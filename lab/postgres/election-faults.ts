// The faults of the HA proofs, each as one measured scenario shared by the integration tests and
// bench P9: two election members (real processes), a fault on the leader, and the time from the
// fault to the new leader's first fenced write.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { LEADER_LOCK } from '../../controller/ha/election.js';
import type { ElectionTiming } from '../../controller/ha/timing.js';
import { spawnMember, MEMBER_SCRIPT, type MemberEvent, type MemberProc } from './election-lab.js';
import { startPostgres, type PostgresLab } from './lab.js';

export interface Pair { leader: MemberProc; follower: MemberProc; lease: { epoch: number; term: string } }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isFenced = (e: MemberEvent) => e.ev === 'fenced' && e.ok === true;

/** Member a leads (its first fenced write done), member b follows and has heartbeated. */
export async function electPair(lab: PostgresLab, db: string, opts: { hosts?: [string, string]; timing?: Partial<ElectionTiming> } = {}): Promise<Pair> {
  const [ha, hb] = opts.hosts ?? ['127.0.0.1', '127.0.0.1'];
  const member = (name: string, host: string) =>
    spawnMember({ name, url: `https://${host}:9443`, connectionString: `postgres://postgres@${host}:${lab.port}/${db}`, password: lab.password, timing: opts.timing });
  const leader = member('a', ha);
  let follower: MemberProc | undefined;
  try {
    const fenced = await leader.waitFor(isFenced, 15_000);
    follower = member('b', hb);
    await follower.waitFor((e) => e.ev === 'started', 10_000);
    await sleep(1500); // b's session is open and polling
    if (follower.events.some((e) => e.ev === 'elected')) throw new Error('two members elected at once');
    return { leader, follower, lease: { epoch: Number(fenced.epoch), term: String(leader.events.find((e) => e.ev === 'elected')!.term) } };
  } catch (e) {
    await leader.stop();
    await follower?.stop();
    throw e;
  }
}

/**
 * Watches the leader lock from its own session (pg_locks every 25 ms): `releasedAt()` is when the
 * backend that held it at `arm()` stopped holding it, i.e. the server-side release.
 */
export async function watchLock(connectionString: string, password: string): Promise<{ arm(): Promise<void>; releasedAt(capMs: number): Promise<number | null>; close(): Promise<void> }> {
  const c = new pg.Client({ connectionString, query_timeout: 2000 });
  c.password = password;
  await c.connect();
  const holder = async (): Promise<number | null> =>
    (await c.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted`, [LEADER_LOCK[0], LEADER_LOCK[1]])).rows[0]?.pid ?? null;
  let pid: number | null = null;
  return {
    async arm() { pid = await holder(); if (pid === null) throw new Error('nobody holds the leader lock'); },
    async releasedAt(capMs) {
      const end = Date.now() + capMs;
      while (Date.now() < end) {
        if ((await holder()) !== pid) return Date.now();
        await sleep(25);
      }
      return null;
    },
    async close() { await c.end().catch(() => {}); },
  };
}

export interface TakeoverResult {
  /** Fault → the server released the old leader's lock (null: not within the cap). */
  releaseMs: number | null;
  /** Fault → the new leader's first committed fenced write (null: none within the cap). */
  takeoverMs: number | null;
  /** Fault → the old leader's `deposed` (null when it cannot say: killed, or frozen until healed). */
  oldDeposedMs: number | null;
  oldEpoch: number;
  newEpoch: number;
  /** After the fault healed: the old leader's lease (null = it stopped acting). */
  oldLease: unknown;
  /** After the fault healed: its write with its old lease (false = refused by the fence). */
  oldFenceOk: boolean | null;
}

export interface Fault {
  /** Does the fault to the elected pair. */
  apply(p: Pair): void;
  /** Undoes it, when the old leader survives it. */
  heal?(p: Pair): void;
}

/** One fault on a freshly elected pair, measured from the moment it was applied. */
export async function measureTakeover(lab: PostgresLab, db: string, fault: Fault, opts: { hosts?: [string, string]; timing?: Partial<ElectionTiming>; capMs: number }): Promise<TakeoverResult> {
  const pair = await electPair(lab, db, opts);
  const { leader, follower, lease } = pair;
  const watch = await watchLock(lab.url(db), lab.password);
  try {
    await watch.arm();
    const from = leader.events.length;
    const faultAt = Date.now();
    fault.apply(pair);
    const released = watch.releasedAt(opts.capMs);
    const f = await follower.waitFor(isFenced, opts.capMs).catch(() => null);
    const rel = await released;
    const deposed = leader.events.slice(from).find((e) => e.ev === 'deposed');
    fault.heal?.(pair);
    const alive = leader.child.exitCode === null && leader.child.signalCode === null;
    const oldLease = alive ? (await leader.ask('lease')).lease : null;
    // Healed: the old leader reaches the database again; its old lease must be refused.
    const fence = alive && f ? await leader.ask('fence-last', 15_000) : null;
    return {
      releaseMs: rel === null ? null : rel - faultAt,
      takeoverMs: f ? f.at - faultAt : null,
      oldDeposedMs: deposed ? deposed.at - faultAt : null,
      oldEpoch: lease.epoch,
      newEpoch: f ? Number(f.epoch) : 0,
      oldLease,
      oldFenceOk: fence?.ev === 'fence-last' ? Boolean(fence.ok) : null,
    };
  } finally {
    await watch.close();
    await leader.stop();
    await follower.stop();
  }
}

export const KILL: Fault = { apply: (p) => p.leader.kill('SIGKILL') };
export const FREEZE: Fault = { apply: (p) => p.leader.kill('SIGSTOP'), heal: (p) => p.leader.kill('SIGCONT') };
/** pg_terminate_backend of the leader's election session (application_name nodewright-election:a). */
export const terminateSession = (lab: PostgresLab, db: string): Fault => ({
  apply: () => {
    lab.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'nodewright-election:a';`, db);
  },
});

/** kill -9 of the leader. */
export const killTakeover = (lab: PostgresLab, db: string, timing?: Partial<ElectionTiming>) => measureTakeover(lab, db, KILL, { timing, capMs: 10_000 });

const iptables = (args: string[]) => {
  const r = spawnSync('iptables', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr}`);
};
const cutRules = (addr: string) => [['INPUT', '-s', addr, '-j', 'DROP'], ['INPUT', '-d', addr, '-j', 'DROP']];

/**
 * A partition of the leader: run inside a private network namespace (`unshare -n`), where each
 * member reaches PostgreSQL through its own loopback address and iptables drops every packet to or
 * from the leader's. After the new leader wrote, the partition heals and the old leader tries a
 * write with its old lease. `capMs` bounds the wait for a takeover (null takeover = none in time).
 */
export async function partitionTakeoverInNamespace(opts: { timing?: Partial<ElectionTiming>; capMs: number }): Promise<TakeoverResult> {
  const up = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`ip link set lo up: ${up.stderr}`);
  const hosts: [string, string] = ['127.0.0.2', '127.0.0.3'];
  const lab = await startPostgres({ settings: { listen_addresses: hosts.join(',') + ',127.0.0.1' } });
  try {
    const cut: Fault = {
      apply: () => { for (const r of cutRules(hosts[0])) iptables(['-I', ...r]); },
      heal: () => { for (const r of cutRules(hosts[0])) iptables(['-D', ...r]); },
    };
    return await measureTakeover(lab, await lab.createDatabase('part'), cut, { hosts, timing: opts.timing, capMs: opts.capMs });
  } finally {
    await lab.stop();
  }
}

/** Runs partitionTakeoverInNamespace in a fresh `unshare -n` namespace (a child process) and returns its result. */
export function partitionTakeover(opts: { timing?: Partial<ElectionTiming>; capMs: number }): Promise<TakeoverResult> {
  const script = path.join(path.dirname(MEMBER_SCRIPT), 'election-partition.js');
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', process.execPath, script, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4000); });
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`partition scenario exited ${code}: ${err || out}`));
    });
  });
}
