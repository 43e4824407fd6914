// Leader election against a real PostgreSQL 15 (lab/postgres/lab.ts): every member is its own
// process (dist/lab/postgres/election-member.js: run `npm run build` first), faults are real
// (kill -9, SIGSTOP, pg_terminate_backend, an iptables partition in a private network namespace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMING, SAFETY_MARGIN_MS } from '../../../../controller/ha/timing.js';
import { electPair, killTakeover, partitionTakeover } from '../../../../lab/postgres/election-faults.js';
import type { MemberEvent } from '../../../../lab/postgres/election-lab.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';

let lab: PostgresLab;
beforeAll(async () => { lab = await startPostgres(); }, 60_000);
afterAll(async () => { await lab?.stop(); });

const isFenced = (e: MemberEvent) => e.ev === 'fenced' && e.ok === true;

describe('election', () => {
  it('elects exactly one leader among two members; both heartbeat; status names it', async () => {
    const db = await lab.createDatabase('el');
    const { leader, follower, lease } = await electPair(lab, db);
    try {
      expect(lease.epoch).toBe(1);
      expect(follower.events.filter((e) => e.ev === 'elected')).toEqual([]);
      expect((await follower.ask('lease')).lease).toBeNull();
      expect((await leader.ask('lease')).lease).toEqual(lease);
      const status = (await follower.ask('status')).status as { leader: string; epoch: number; term: string; members: { name: string; leader: boolean; heartbeatAgeMs: number }[] };
      expect(status).toMatchObject({ leader: 'a', epoch: 1, term: lease.term });
      expect(status.members.map((m) => [m.name, m.leader])).toEqual([['a', true], ['b', false]]);
      for (const m of status.members) expect(m.heartbeatAgeMs).toBeLessThan(3000);
      // A clean stop releases the lock at once: b leads within one poll.
      const stoppedAt = Date.now();
      await leader.stop();
      const f = await follower.waitFor(isFenced, 5000);
      expect(f.epoch).toBe(2);
      expect(f.at - stoppedAt).toBeLessThan(DEFAULT_TIMING.pollMs + 1000);
    } finally {
      await leader.stop();
      await follower.stop();
    }
  });

  it('kill -9 of the leader: the follower leads with epoch + 1 and writes fenced within 2 s', async () => {
    const db = await lab.createDatabase('el');
    const r = await killTakeover(lab, db);
    expect(r.newEpoch).toBe(r.oldEpoch + 1);
    expect(r.releaseMs).not.toBeNull();
    expect(r.releaseMs!).toBeLessThan(1000);
    expect(r.takeoverMs).not.toBeNull();
    expect(r.takeoverMs!).toBeLessThanOrEqual(2000);
  });

  it('SIGSTOP past the bound, then SIGCONT: the old leader has no lease, its old lease is refused by the fence, and it steps down', async () => {
    const db = await lab.createDatabase('el');
    const { leader, follower, lease } = await electPair(lab, db);
    try {
      const stoppedAt = Date.now();
      leader.kill('SIGSTOP');
      const f = await follower.waitFor(isFenced, 15_000);
      expect(f.epoch).toBe(lease.epoch + 1);
      // The new term began (database clock) more than the bound after the frozen leader's last
      // heartbeat reached the database: its own lease had run out before anyone else led.
      const gap = Number(lab.psql(`SELECT EXTRACT(EPOCH FROM (SELECT since::timestamptz FROM ha_leader) - (SELECT last_heartbeat::timestamptz FROM ha_members WHERE name = 'a')) * 1000;`, db).trim());
      expect(gap).toBeGreaterThan(DEFAULT_TIMING.boundMs + SAFETY_MARGIN_MS);
      expect(f.at - stoppedAt).toBeGreaterThan(DEFAULT_TIMING.boundMs - DEFAULT_TIMING.heartbeatMs);
      const from = leader.events.length;
      leader.kill('SIGCONT');
      expect((await leader.ask('lease')).lease).toBeNull();
      const deposed = await leader.waitFor((e) => e.ev === 'deposed', 5000, 0);
      expect(['heartbeat-late', 'session-lost']).toContain(deposed.reason);
      const fence = await leader.ask('fence-last', 10_000);
      expect(fence).toMatchObject({ ev: 'fence-last', ok: false, lease });
      expect(leader.events.slice(from).filter((e) => e.ev === 'elected')).toEqual([]);
    } finally {
      await leader.stop();
      await follower.stop();
    }
  });

  it('pg_terminate_backend of the election session: the leader is deposed at once and the follower leads', async () => {
    const db = await lab.createDatabase('el');
    const { leader, follower, lease } = await electPair(lab, db);
    try {
      const faultAt = Date.now();
      const killed = lab.psql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'nodewright-election:a';`, db).trim();
      expect(killed).toBe('1');
      const deposed = await leader.waitFor((e) => e.ev === 'deposed', 5000);
      expect(deposed.reason).toBe('session-lost');
      const f = await follower.waitFor(isFenced, 5000);
      expect(f.epoch).toBe(lease.epoch + 1);
      expect(deposed.at).toBeLessThanOrEqual(f.at);
      expect(f.at - faultAt).toBeLessThanOrEqual(2000);
      expect((await leader.ask('fence-last', 10_000))).toMatchObject({ ok: false });
    } finally {
      await leader.stop();
      await follower.stop();
    }
  });

  it('a partition of the leader (iptables in a private network namespace): the old leader fences itself first, the follower leads within 8 s, the old lease is refused after the partition heals', async () => {
    const r = await partitionTakeover({ capMs: 15_000 });
    expect(r.takeoverMs).not.toBeNull();
    expect(r.takeoverMs!).toBeLessThanOrEqual(8000);
    expect(r.newEpoch).toBe(r.oldEpoch + 1);
    expect(r.oldDeposedMs).not.toBeNull();
    expect(r.oldDeposedMs!).toBeLessThanOrEqual(DEFAULT_TIMING.boundMs);
    expect(r.oldDeposedMs!).toBeLessThan(r.takeoverMs!);
    expect(r.oldLease).toBeNull();
    expect(r.oldFenceOk).toBe(false);
  });

  it('PostgreSQL restarted: the leader is deposed at once, the members reconnect and one leads with epoch + 1', async () => {
    const db = await lab.createDatabase('el');
    const { leader, follower, lease } = await electPair(lab, db);
    try {
      const from = [leader.events.length, follower.events.length];
      await lab.restart();
      expect((await leader.waitFor((e) => e.ev === 'deposed', 5000, from[0])).reason).toBe('session-lost');
      const f = await Promise.any([leader, follower].map((m, i) => m.waitFor(isFenced, 15_000, from[i])));
      expect(f.epoch).toBe(lease.epoch + 1);
      await new Promise((r) => setTimeout(r, 1500));
      const elected = [leader, follower].flatMap((m, i) => m.events.slice(from[i]).filter((e) => e.ev === 'elected'));
      expect(elected).toHaveLength(1);
    } finally {
      await leader.stop();
      await follower.stop();
    }
  });
});
