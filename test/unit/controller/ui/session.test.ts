// The pure parts of dashboard sign-in: the cookie written and read, the same-origin rule, the
// CSRF check, and minting codes, sessions and links.
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { NwError } from '../../../../host/errors.js';
import { clearedSessionCookie, cookieValue, sessionCookie } from '../../../../controller/ui/cookie.js';
import { isSameOrigin } from '../../../../controller/ui/origin.js';
import { loginUrl, mintLoginCode, sameSecret, sha256Hex } from '../../../../controller/ui/secrets.js';
import { checkCsrf, newSession, uiAuth, type UiSession } from '../../../../controller/ui/session.js';
import type { Store } from '../../../../controller/store/store.js';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    return (e as NwError).code;
  }
  return undefined;
};

describe('session cookie', () => {
  it('is HttpOnly, Secure, SameSite=Strict, on /ui only, with a Max-Age', () => {
    expect(sessionCookie('abc_-9', 28_800)).toBe('nw_session=abc_-9; Path=/ui; HttpOnly; Secure; SameSite=Strict; Max-Age=28800');
    expect(clearedSessionCookie()).toBe('nw_session=; Path=/ui; HttpOnly; Secure; SameSite=Strict; Max-Age=0');
  });

  it('is read from a Cookie header among others; absent or empty is null', () => {
    expect(cookieValue('a=1; nw_session=xyz; b=2', 'nw_session')).toBe('xyz');
    expect(cookieValue('nw_session=first;nw_session=second', 'nw_session')).toBe('first');
    expect(cookieValue('xnw_session=1; nw_sessionx=2', 'nw_session')).toBeNull();
    expect(cookieValue('nw_session=', 'nw_session')).toBeNull();
    expect(cookieValue(undefined, 'nw_session')).toBeNull();
  });
});

describe('same origin', () => {
  const host = 'ctl.example:8443';
  it('accepts the listener\'s own https origin and same-origin fetches, and requests without either header', () => {
    expect(isSameOrigin({ host, origin: 'https://ctl.example:8443', 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(isSameOrigin({ host, origin: 'https://CTL.example:8443' })).toBe(true);
    expect(isSameOrigin({ host })).toBe(true);
  });
  it('refuses another origin, plain http, another port, a cross-site or same-site fetch, an Origin without Host', () => {
    expect(isSameOrigin({ host, origin: 'https://evil.example' })).toBe(false);
    expect(isSameOrigin({ host, origin: 'http://ctl.example:8443' })).toBe(false);
    expect(isSameOrigin({ host, origin: 'https://ctl.example:9443' })).toBe(false);
    expect(isSameOrigin({ host, origin: 'null' })).toBe(false);
    expect(isSameOrigin({ host, 'sec-fetch-site': 'cross-site' })).toBe(false);
    expect(isSameOrigin({ host, origin: 'https://ctl.example:8443', 'sec-fetch-site': 'same-site' })).toBe(false);
    expect(isSameOrigin({ origin: 'https://ctl.example:8443' })).toBe(false);
  });
});

describe('CSRF check', () => {
  const s: UiSession = { actor: 'operator:alice', readOnly: false, csrf: 't'.repeat(43), expiresAt: '2026-12-01T18:00:00.000Z' };
  const req = (headers: Record<string, string>, body?: unknown) => ({ headers: { host: 'h:1', ...headers }, body }) as unknown as FastifyRequest;
  it('passes with the session\'s token in the header or the form field, from the same origin', () => {
    expect(codeOf(() => checkCsrf(req({ 'x-csrf-token': s.csrf, origin: 'https://h:1' }), s))).toBeUndefined();
    expect(codeOf(() => checkCsrf(req({}, { _csrf: s.csrf }), s))).toBeUndefined();
  });
  it('is NW_CSRF without a token, with another token (any length), or from another origin', () => {
    expect(codeOf(() => checkCsrf(req({}), s))).toBe('NW_CSRF');
    expect(codeOf(() => checkCsrf(req({ 'x-csrf-token': 'u'.repeat(43) }), s))).toBe('NW_CSRF');
    expect(codeOf(() => checkCsrf(req({ 'x-csrf-token': 't' }), s))).toBe('NW_CSRF');
    expect(codeOf(() => checkCsrf(req({}, { _csrf: 42 }), s))).toBe('NW_CSRF');
    expect(codeOf(() => checkCsrf(req({ 'x-csrf-token': s.csrf, origin: 'https://evil' }), s))).toBe('NW_CSRF');
    expect(codeOf(() => checkCsrf(req({ 'x-csrf-token': s.csrf, 'sec-fetch-site': 'cross-site' }), s))).toBe('NW_CSRF');
  });
});

describe('actions', () => {
  const req = { headers: { host: 'h:1', origin: 'https://h:1', 'x-csrf-token': 't'.repeat(43) } } as unknown as FastifyRequest;
  const s: UiSession = { actor: 'operator:alice', readOnly: false, csrf: 't'.repeat(43), expiresAt: '2026-12-01T18:00:00.000Z' };
  const auth = uiAuth({} as Store, { now: () => NOW, operatorRoles: ['operator'] });
  it('pass for an operator session with the token from the same origin; a read-only session is NW_FORBIDDEN', () => {
    expect(codeOf(() => auth.checkAction(req, s))).toBeUndefined();
    expect(codeOf(() => auth.checkAction(req, { ...s, readOnly: true }))).toBe('NW_FORBIDDEN');
    expect(codeOf(() => auth.checkAction(req, { ...s, csrf: 'u'.repeat(43) }))).toBe('NW_CSRF');
  });
});

describe('minting', () => {
  it('a sign-in code: 32 random bytes base64url, only its sha256 in the record, valid 60 s', () => {
    const { code, record } = mintLoginCode({ actor: 'operator:alice', readOnly: true, now: NOW });
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({ codeHash: sha256Hex(code), actor: 'operator:alice', readOnly: true, createdAt: NOW.toISOString(), expiresAt: '2026-12-01T10:01:00.000Z' });
    expect(JSON.stringify(record)).not.toContain(code);
    expect(mintLoginCode({ actor: 'a', readOnly: false, now: NOW }).code).not.toBe(code);
  });
  it('a session: cookie and CSRF token are distinct secrets; 8 h by default', () => {
    const { cookie, record } = newSession({ actor: 'operator:alice', readOnly: false, now: NOW });
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(record.idHash).toBe(sha256Hex(cookie));
    expect(record.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(record.csrf).not.toBe(cookie);
    expect(record.expiresAt).toBe('2026-12-01T18:00:00.000Z');
    expect(newSession({ actor: 'a', readOnly: true, now: NOW, ttlMs: 1000 }).record.expiresAt).toBe('2026-12-01T10:00:01.000Z');
  });
  it('the link is on the controller reached, path /ui/login, the code as a query parameter', () => {
    expect(loginUrl('https://127.0.0.1:8443', 'abc_-')).toBe('https://127.0.0.1:8443/ui/login?code=abc_-');
    expect(loginUrl('https://ctl.example:8443/v1/ui/login-codes', 'x')).toBe('https://ctl.example:8443/ui/login?code=x');
  });
  it('secrets compare equal only when equal', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'ab')).toBe(false);
  });
});
