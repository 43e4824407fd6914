// The Election in this process against a real PostgreSQL: self-fencing checked on every lease()
// call (a stepped clock), and a lock granted on a session whose reply never came back (a proxy that
// swallows the server's answers: greptimedb #7670) is released because the session is closed.
import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Election, type DeposedReason } from '../../../../controller/ha/election.js';
import type { Lease } from '../../../../controller/ha/schema.js';
import { DEFAULT_TIMING } from '../../../../controller/ha/timing.js';
import { spawnMember } from '../../../../lab/postgres/election-lab.js';
import { startPostgres, type PostgresLab } from '../../../../lab/postgres/lab.js';

let lab: PostgresLab;
beforeAll(async () => { lab = await startPostgres(); }, 60_000);
afterAll(async () => { await lab?.stop(); });

const next = <T>(e: Election, ev: 'elected' | 'deposed', ms: number) =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} in ${ms} ms`)), ms);
    e.once(ev, (v: unknown) => { clearTimeout(t); resolve(v as T); });
  });

describe('election in process', () => {
  it('lease() is null the moment the last good heartbeat is boundMs old, without waiting for a timer; it then steps down and starts a new term', async () => {
    const db = await lab.createDatabase('fence');
    let skew = 0;
    const e = new Election({ connectionString: lab.url(db), password: lab.password, member: { name: 'solo', url: 'https://127.0.0.1:1' }, now: () => performance.now() + skew });
    e.start();
    try {
      const lease = await next<Lease>(e, 'elected', 10_000);
      expect(e.lease()).toEqual(lease);
      const deposed = next<DeposedReason>(e, 'deposed', 2000);
      skew = DEFAULT_TIMING.boundMs;
      expect(e.lease()).toBeNull();
      expect(await deposed).toBe('heartbeat-late');
      expect(e.lease()).toBeNull();
      skew = 0;
      const again = await next<Lease>(e, 'elected', 10_000);
      expect(again.epoch).toBe(lease.epoch + 1);
      expect(again.term).not.toBe(lease.term);
    } finally {
      await e.stop();
    }
    expect(e.lease()).toBeNull();
  });

  it('a lock granted on a session whose answer never arrived is released: the member closes the session at its deadline', async () => {
    const db = await lab.createDatabase('fence');
    // b reaches PostgreSQL through this proxy; `swallow` drops the server's answers on open connections.
    let swallow = false;
    const pairs = new Set<[Socket, Socket]>();
    const proxy: Server = createServer((down) => {
      const up = new Socket();
      const pair: [Socket, Socket] = [down, up];
      pairs.add(pair);
      up.connect(lab.port, '127.0.0.1');
      down.on('data', (d) => up.write(d));
      up.on('data', (d) => { if (!swallow) down.write(d); });
      const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
      down.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyPort = (proxy.address() as { port: number }).port;
    const a = spawnMember({ name: 'a', url: 'https://127.0.0.1:1', connectionString: lab.url(db), password: lab.password });
    let b: ReturnType<typeof spawnMember> | undefined;
    try {
      await a.waitFor((e) => e.ev === 'fenced' && e.ok === true, 10_000);
      b = spawnMember({ name: 'b', url: 'https://127.0.0.1:2', connectionString: `postgres://postgres@127.0.0.1:${proxyPort}/${db}`, password: lab.password });
      await b.waitFor((e) => e.ev === 'started', 10_000);
      await new Promise((r) => setTimeout(r, 1500));
      // b's next pg_try_advisory_lock wins on the server, but b never hears it.
      swallow = true;
      a.kill('SIGKILL');
      const holder = () => lab.psql(`SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = 1 AND l.granted;`, db).trim();
      let grantedUnheard = false;
      for (let i = 0; i < 40 && !grantedUnheard; i++) {
        grantedUnheard = holder() === 'nodewright-election:b';
        if (!grantedUnheard) await new Promise((r) => setTimeout(r, 50));
      }
      expect(grantedUnheard).toBe(true);
      expect(b.events.some((e) => e.ev === 'elected')).toBe(false);
      // Its deadline passes: b closes that session (the lock goes with it) and, heard again, leads.
      await b.waitFor((e) => e.ev === 'session-error', 5000);
      for (let i = 0; i < 20 && pairs.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
      const openBefore = pairs.size;
      swallow = false;
      const f = await b.waitFor((e) => e.ev === 'fenced' && e.ok === true, 10_000);
      expect(f.epoch).toBe(2);
      expect(openBefore).toBe(0);
      expect(lab.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'nodewright-election:b';`, db).trim()).toBe('1');
    } finally {
      await a.stop();
      await b?.stop();
      for (const [d, u] of pairs) { d.destroy(); u.destroy(); }
      await new Promise((r) => proxy.close(() => r(undefined)));
    }
  });
});
