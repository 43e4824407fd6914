// The store contract for dashboard sign-in: one-time codes (single use, also under concurrency),
// sessions (expiry, revoke), retention of expired ones — the same answers from both adapters.
import { expect, it } from 'vitest';
import { DEFAULT_RETENTION } from '../../../../controller/store/retention.js';
import type { UiLoginCode, UiSessionRecord } from '../../../../controller/store/store.js';
import { openPostgresStore } from '../../../../controller/store/postgres.js';
import { codeOf, describeEachStore } from './harness.js';
import { T0, T1 } from '../../../fixtures/store-records.js';

const IN_60S = '2026-12-01T10:01:00.000Z';
const IN_8H = '2026-12-01T18:00:00.000Z';

const code = (over: Partial<UiLoginCode> = {}): UiLoginCode => ({
  codeHash: 'a'.repeat(64), actor: 'operator:alice', readOnly: false, createdAt: T0, expiresAt: IN_60S, ...over,
});
const session = (over: Partial<UiSessionRecord> = {}): UiSessionRecord => ({
  idHash: 'b'.repeat(64), actor: 'operator:alice', readOnly: false, csrf: 'c'.repeat(43), createdAt: T0, expiresAt: IN_8H, ...over,
});

describeEachStore('dashboard sign-in store', (h) => {
  it('a sign-in code is consumed once; unknown, used and expired are NW_TOKEN; the read-only flag comes back', async () => {
    const s = await h.open(await h.fresh());
    await s.addUiLoginCode(code());
    await s.addUiLoginCode(code({ codeHash: 'd'.repeat(64), readOnly: true }));
    await s.addUiLoginCode(code({ codeHash: 'e'.repeat(64) }));
    expect(await codeOf(s.consumeUiLoginCode('f'.repeat(64), T1))).toBe('NW_TOKEN');
    expect(await s.consumeUiLoginCode('a'.repeat(64), T1)).toEqual(code());
    expect(await codeOf(s.consumeUiLoginCode('a'.repeat(64), T1))).toBe('NW_TOKEN');
    expect((await s.consumeUiLoginCode('d'.repeat(64), T1)).readOnly).toBe(true);
    // valid strictly before its expiry; an expired code is refused (and gone)
    expect(await codeOf(s.consumeUiLoginCode('e'.repeat(64), IN_60S))).toBe('NW_TOKEN');
    expect(await codeOf(s.consumeUiLoginCode('e'.repeat(64), T1))).toBe('NW_TOKEN');
  });

  it('two consumers of one code at once: exactly one wins', async () => {
    const at = await h.fresh();
    const s = await h.open(at);
    // on PostgreSQL the second consumer is another controller of the set: its own pool, no lease
    const other = h.kind === 'postgres'
      ? await openPostgresStore({ connectionString: h.lab!.url(at), password: h.lab!.password, lease: () => null, max: 2 })
      : s;
    try {
      for (let i = 0; i < 20; i++) {
        const hash = i.toString(16).padStart(64, '0');
        await s.addUiLoginCode(code({ codeHash: hash }));
        const tries = await Promise.allSettled([s.consumeUiLoginCode(hash, T1), other.consumeUiLoginCode(hash, T1), other.consumeUiLoginCode(hash, T1)]);
        expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
        for (const t of tries) if (t.status === 'rejected') expect((t.reason as { code: string }).code).toBe('NW_TOKEN');
      }
    } finally {
      if (other !== s) await other.close();
    }
  });

  it('sessions: found until they expire, ended one by one (sign-out) or all at once by revoke', async () => {
    const s = await h.open(await h.fresh());
    expect(await s.revokeUiSessions()).toBe(0);
    await s.addUiSession(session({ idHash: 'e'.repeat(64) }));
    expect(await s.endUiSession('e'.repeat(64))).toBe(true);
    expect(await s.endUiSession('e'.repeat(64))).toBe(false);
    expect(await s.getUiSession('e'.repeat(64), T1)).toBeNull();
    await s.addUiSession(session());
    await s.addUiSession(session({ idHash: 'd'.repeat(64), readOnly: true, actor: 'operator:bob' }));
    expect(await s.getUiSession('b'.repeat(64), T1)).toEqual(session());
    expect(await s.getUiSession('d'.repeat(64), T1)).toMatchObject({ readOnly: true, actor: 'operator:bob' });
    expect(await s.getUiSession('f'.repeat(64), T1)).toBeNull();
    expect(await s.getUiSession('b'.repeat(64), IN_8H)).toBeNull();
    expect(await s.revokeUiSessions()).toBe(2);
    expect(await s.getUiSession('b'.repeat(64), T1)).toBeNull();
  });

  it('revoke by actor ends only those actors\' sessions', async () => {
    const s = await h.open(await h.fresh());
    await s.addUiSession(session());
    await s.addUiSession(session({ idHash: 'd'.repeat(64), actor: 'operator:bob' }));
    await s.addUiSession(session({ idHash: 'e'.repeat(64), actor: 'admin:bob' }));
    expect(await s.revokeUiSessions(undefined, ['operator:carol'])).toBe(0);
    expect(await s.revokeUiSessions(undefined, [])).toBe(0);
    expect(await s.revokeUiSessions(undefined, ['operator:bob', 'admin:bob'])).toBe(2);
    expect(await s.getUiSession('d'.repeat(64), T1)).toBeNull();
    expect(await s.getUiSession('e'.repeat(64), T1)).toBeNull();
    expect(await s.getUiSession('b'.repeat(64), T1)).toMatchObject({ actor: 'operator:alice' });
  });

  it('the audit events given go in with the code, the session and the revocation', async () => {
    const s = await h.open(await h.fresh());
    const ev = (kind: string, message = kind) => ({ at: T0, actor: 'operator:alice', kind, subject: 'operator:alice', message });
    await s.addUiLoginCode(code(), [ev('ui.link')]);
    await s.addUiSession(session(), [ev('ui.signed-in')]);
    expect(await s.revokeUiSessions((n) => [ev('ui.revoked', `ended ${n}`)])).toBe(1);
    expect((await s.queryEvents({ kind: 'ui.', limit: 10 })).map((e) => e.message)).toEqual(['ended 1', 'ui.signed-in', 'ui.link']);
  });

  it('followers write sessions and codes: those writes are not fenced by the leader epoch', async () => {
    const at = await h.fresh();
    const first = await h.open(at);
    await h.open(at); // a newer leader: `first` can no longer write fleet state
    expect(await codeOf(first.appendEvent({ at: T0, actor: 'op', kind: 'k', subject: 's', message: 'm' }))).toBe('NW_STATE');
    if (h.kind === 'sqlite') return; // one controller per SQLite file: its sign-in writes are fenced like the rest
    const ev = { at: T0, actor: 'operator:alice', kind: 'ui.signed-in', subject: 'operator:alice', message: 'signed in' };
    await first.addUiLoginCode(code());
    await first.addUiSession(session(), [ev]);
    expect((await first.consumeUiLoginCode('a'.repeat(64), T1)).actor).toBe('operator:alice');
    expect(await first.getUiSession('b'.repeat(64), T1)).not.toBeNull();
    expect((await first.queryEvents({ kind: 'ui.signed-in', limit: 1 }))[0]).toMatchObject(ev);
    expect(await first.revokeUiSessions()).toBe(1);
  });

  it('retention removes expired codes and sessions only', async () => {
    const at = await h.fresh();
    const s = await h.open(at);
    await s.addUiLoginCode(code());
    await s.addUiLoginCode(code({ codeHash: 'd'.repeat(64), expiresAt: IN_8H }));
    await s.addUiSession(session({ expiresAt: IN_60S }));
    await s.addUiSession(session({ idHash: 'd'.repeat(64) }));
    const r = await s.prune(DEFAULT_RETENTION, '2026-12-01T12:00:00.000Z');
    expect(r).toMatchObject({ uiLoginCodes: 1, uiSessions: 1, more: false });
    expect(await h.count(at, 'ui_login_codes')).toBe(1);
    expect(await h.count(at, 'ui_sessions')).toBe(1);
    expect(await s.getUiSession('d'.repeat(64), '2026-12-01T12:00:00.000Z')).not.toBeNull();
  });
});
