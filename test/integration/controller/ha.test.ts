// The HA proof: two real controllers (dist/) on a real PostgreSQL 15, six honest simulated agents,
// a rollout in three waves, and a fault at the leader mid-wave. Each scenario has its own database
// and controllers; the verdict is R4's (bench/r4-check.ts): every node accepted the rollout's
// generation exactly once, the rollout completed, every transition is in the audit log.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresLab } from '../../../lab/postgres/lab.js';
import { Fleet, until } from './ha-fleet.js';

const NODES = 6;
let lab: PostgresLab;
let fleet: Fleet | null = null;

beforeAll(async () => { lab = await startPostgres(); }, 60_000);
afterEach(async () => {
  await fleet?.close();
  fleet = null;
}, 30_000);
afterAll(async () => { await lab?.stop(); }, 30_000);

const clean = { double_pushes: 0, lost: 0, stuck: 0, missing_events: 0 };
const exactlyOnce = (f: Fleet, marker: string) =>
  f.agents.map((a) => ({ node: a.name, fresh: [...a.accepted.values()].filter((x) => x.marker === marker).map((x) => x.fresh) }));
const onceEach = (f: Fleet) => f.agents.map((a) => ({ node: a.name, fresh: [1] }));

/** Starts a rollout and waits until it is mid-wave: some nodes pushed, not all. */
async function midWave(f: Fleet, marker: string): Promise<string> {
  const id = await f.rollout(marker);
  await until('a node pushed and not all', () => f.pushed(marker) >= 1 && f.pushed(marker) < NODES, 30_000, () => f.logs());
  return id;
}

describe('two controllers on PostgreSQL', () => {
  it('a follower learns what the leader writes through LISTEN/NOTIFY: its /metrics count the nodes enrolled and polled by the leader', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    const c2 = f.member('c2');
    // c2 started before any node enrolled: only the change feed can bring them into its view
    let seen = '';
    await until('c2 /metrics to count every node healthy', async () => {
      const m = await c2.api('GET', '/metrics').catch(() => null);
      seen = m?.text.split('\n').filter((l) => l.startsWith('nodewright_nodes{')).join('\n') ?? '';
      return m?.status === 200 && m.text.includes(`nodewright_nodes{state="healthy"} ${NODES}`);
    }, 30_000, () => `${seen}\n${f.logs()}`);
    expect((await c2.status())?.leader).toBe('c1');
  });

  it('kill -9 of the leader mid-wave: the follower leads and completes the same rollout; every node accepted its generation exactly once', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    const [c1, c2] = f.members;
    const before = (await c1.status())!;
    const id = await midWave(f, 'ha-kill');
    const pushedAtKill = f.pushed('ha-kill');
    const t0 = Date.now();
    c1.signal('SIGKILL');
    const s = await until('c2 to lead', async () => {
      const st = await c2.status();
      return st?.leader === 'c2' ? st : null;
    }, 15_000, () => f.logs());
    const takeoverMs = Date.now() - t0;
    expect(s.epoch).toBeGreaterThan(before.epoch);
    const done = await f.completed(id);
    expect(done.nodes.map((n: { phase: string }) => n.phase)).toEqual(Array(NODES).fill('healthy'));
    expect(await f.verdict([{ id, marker: 'ha-kill' }])).toMatchObject(clean);
    expect(exactlyOnce(f, 'ha-kill')).toEqual(onceEach(f));
    console.log(`kill -9 at ${pushedAtKill}/${NODES} nodes pushed: c2 leads after ${takeoverMs} ms (epoch ${before.epoch} → ${s.epoch})`);
  }, 90_000);

  it('SIGSTOP of the leader past its bound, then SIGCONT: the old leader pushes and writes nothing after it resumes, exits deposed, and the other leads', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    const [c1, c2] = f.members;
    const id = await midWave(f, 'ha-stop');
    const t0 = Date.now();
    c1.signal('SIGSTOP');
    const s = await until('c2 to lead', async () => {
      const st = await c2.status();
      return st?.leader === 'c2' ? st : null;
    }, 20_000, () => f.logs());
    const takeoverMs = Date.now() - t0;
    // c2 finishes the rollout while c1 is frozen; then the fleet is quiet: nothing left to push
    await f.completed(id);
    await new Promise((r) => setTimeout(r, 1000));
    const rows = () => lab.psql('SELECT (SELECT count(*) FROM events) || \',\' || (SELECT count(*) FROM desired) || \',\' || (SELECT count(*) FROM rollouts);', f.db).trim();
    const stored = rows();
    const resumed = Date.now();
    c1.signal('SIGCONT');
    expect(await Promise.race([c1.exited(), new Promise((r) => setTimeout(() => r('still running'), 15_000))])).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(f.agents.flatMap((a) => a.receipts.filter((at) => at >= resumed))).toEqual([]);
    expect(rows()).toBe(stored);
    const after = (await c2.status())!;
    expect(after.leader).toBe('c2');
    expect(after.epoch).toBe(s.epoch);
    expect(await f.verdict([{ id, marker: 'ha-stop' }])).toMatchObject(clean);
    expect(exactlyOnce(f, 'ha-stop')).toEqual(onceEach(f));
    console.log(`SIGSTOP: c2 leads after ${takeoverMs} ms; c1 resumed after ${resumed - t0} ms and exited 1 after ${Date.now() - resumed - 1000} ms, having pushed and written nothing`);
  }, 90_000);

  it('a leader frozen inside its writes: the server ends them (and the ha_leader row lock their fence holds) with its lease, and the follower leads within the partition target', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    const [c1, c2] = f.members;
    // Hold the leader inside fenced writes: each fence has locked the ha_leader row, the event insert
    // waits on our table lock. Freeze it there, then let the inserts finish: the transactions stay
    // open on the server, as after a SIGSTOP or a partition at that moment.
    const blocker = new pg.Client({ connectionString: lab.urlWithPassword(f.db) });
    await blocker.connect();
    try {
      const id = await midWave(f, 'ha-tx');
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN EXCLUSIVE MODE');
      await until('the leader waiting inside a write', async () => {
        const r = await blocker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'nodewright' AND wait_event_type = 'Lock'`);
        return r.rows[0].n > 0;
      }, 15_000, () => f.logs());
      c1.signal('SIGSTOP');
      const t0 = Date.now();
      await blocker.query('ROLLBACK');
      // the longest a store transaction stayed open with nobody talking to it, over the takeover
      let idleMax = 0;
      const s = await until('c2 to lead', async () => {
        const r = await blocker.query(`SELECT coalesce(max(extract(epoch FROM now() - state_change)), 0)::float8 AS s FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'nodewright' AND state LIKE 'idle in transaction%'`);
        idleMax = Math.max(idleMax, r.rows[0].s);
        const st = await c2.status();
        return st?.leader === 'c2' ? st : null;
      }, 40_000, () => f.logs());
      const takeoverMs = Date.now() - t0;
      // ended with the election session (idle_session_timeout 5 s), not at the pool's former 15 s,
      // and the writes queued behind it on the ha_leader row gave up (lock_timeout = the bound)
      expect(idleMax).toBeGreaterThan(1);
      expect(idleMax).toBeLessThan(6.5);
      expect(takeoverMs).toBeLessThan(8000);
      c1.signal('SIGCONT');
      expect(await c1.exited()).toBe(1);
      await f.completed(id);
      expect(await f.verdict([{ id, marker: 'ha-tx' }])).toMatchObject(clean);
      expect(exactlyOnce(f, 'ha-tx')).toEqual(onceEach(f));
      console.log(`frozen inside a write transaction: open transactions ended after ≤ ${idleMax.toFixed(1)} s idle; c2 leads after ${takeoverMs} ms (epoch ${s.epoch})`);
    } finally {
      await blocker.end();
    }
  }, 90_000);

  it('pg_terminate_backend of the leader\'s election session mid-wave: a new leader within seconds, the rollout completes, no double push', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    const [c1] = f.members;
    c1.restartOnFailure = true; // as systemd does: a deposed leader comes back as a follower
    const before = (await c1.status())!;
    // the session holding the leadership lock: the advisory lock in pg_locks, named by application_name
    const holder = () => lab.psql(`SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'nodewright-election:c1';`, f.db).trim();
    const pid = holder();
    expect(pid).toMatch(/^\d+$/);
    const id = await midWave(f, 'ha-term');
    const t0 = Date.now();
    expect(lab.psql(`SELECT pg_terminate_backend(${pid});`, f.db).trim()).toBe('t');
    const s = await until('a new leader', async () => {
      const l = await f.leader();
      return l && l.status.epoch > before.epoch ? l.status : null;
    }, 10_000, () => f.logs());
    const takeoverMs = Date.now() - t0;
    await f.completed(id);
    expect(await f.verdict([{ id, marker: 'ha-term' }])).toMatchObject(clean);
    expect(exactlyOnce(f, 'ha-term')).toEqual(onceEach(f));
    expect(c1.exits).toEqual([1]);
    expect((await until('c1 back, answering', () => c1.status(), 30_000, () => f.logs())).leader).toBe(s.leader);
    console.log(`pg_terminate_backend: ${s.leader} leads after ${takeoverMs} ms (epoch ${before.epoch} → ${s.epoch}); c1 exited 1 and came back as a follower`);
  }, 90_000);

  it('PostgreSQL restarted during a rollout: the controllers reconnect, one leads again and the rollout completes, no double push', async () => {
    const f = (fleet = await Fleet.start(lab, NODES));
    for (const m of f.members) m.restartOnFailure = true;
    const before = (await f.members[0].status())!;
    const id = await midWave(f, 'ha-pg');
    const t0 = Date.now();
    await lab.restart();
    const up = Date.now();
    const s = await until('a leader after the restart', async () => {
      const l = await f.leader();
      return l && l.status.epoch > before.epoch ? l.status : null;
    }, 20_000, () => f.logs());
    const leadMs = Date.now() - up;
    await f.completed(id);
    expect(await f.verdict([{ id, marker: 'ha-pg' }])).toMatchObject(clean);
    expect(exactlyOnce(f, 'ha-pg')).toEqual(onceEach(f));
    for (const m of f.members) expect(await until(`${m.name} answering`, () => m.status(), 30_000, () => f.logs())).toMatchObject({ leader: s.leader });
    console.log(`PostgreSQL restart took ${up - t0} ms; ${s.leader} leads ${leadMs} ms after it is back (epoch ${before.epoch} → ${s.epoch}); exits: ${f.members.map((m) => `${m.name} ${JSON.stringify(m.exits)}`).join(', ')}`);
  }, 90_000);
});
