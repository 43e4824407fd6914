// Who is at the dashboard (controller/ui, the contract of issue 18): a browser is signed in by the
// session cookie `nw_session` (a one-time link from `nodewright ui` made it), or, presenting an
// operator client certificate of the fleet CA, gets a session made on the spot. Sessions live in
// the store (only the cookie's sha256), so every controller of an HA set accepts them. Every action
// carries the session's synchronizer CSRF token and comes from the dashboard's own origin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NwError } from '../../host/errors.js';
import type { Role } from '../../pki/index.js';
import { actorOf, callerOf } from '../api/auth.js';
import type { Store, UiSessionRecord } from '../store/store.js';
import { cookieValue, SESSION_COOKIE, sessionCookie } from './cookie.js';
import { isSameOrigin } from './origin.js';
import { newSecret, sameSecret, SESSION_TTL_MS, sha256Hex } from './secrets.js';

export interface UiSession { actor: string; readOnly: boolean; csrf: string; expiresAt: string }

export interface UiAuth {
  /** The session of this request (cookie `nw_session`), or one made now for a browser presenting an
   *  operator client certificate (sets the cookie on `reply`), or null (signed out). */
  sessionOf(req: FastifyRequest, reply: FastifyReply): Promise<UiSession | null>;
  /** Throws NW_CSRF (403) unless the request carries header `x-csrf-token` (or form field `_csrf`)
   *  equal to the session's token and a same-origin `Origin`/`Sec-Fetch-Site`; NW_FORBIDDEN (403)
   *  for a read-only session. Nothing changes before this passed. */
  checkAction(req: FastifyRequest, s: UiSession): void;
}

export interface UiAuthOptions {
  now: () => Date;
  operatorRoles: Role[];
  /** Session lifetime (default 8 h). */
  sessionTtlMs?: number;
}

/** A cookie value longer than this is not one we gave out (32 bytes are 43 characters). */
const MAX_COOKIE_CHARS = 128;

/** The session cookie's value on this request, or null. */
export const sessionCookieOf = (req: FastifyRequest): string | null => {
  const v = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return v !== null && v.length <= MAX_COOKIE_CHARS ? v : null;
};

/** A new session for `actor`: the cookie value for the browser, the record for the store. */
export function newSession(o: { actor: string; readOnly: boolean; now: Date; ttlMs?: number }): { cookie: string; record: UiSessionRecord } {
  const cookie = newSecret();
  return {
    cookie,
    record: {
      idHash: sha256Hex(cookie), actor: o.actor, readOnly: o.readOnly, csrf: newSecret(),
      createdAt: o.now.toISOString(), expiresAt: new Date(o.now.getTime() + (o.ttlMs ?? SESSION_TTL_MS)).toISOString(),
    },
  };
}

const view = (r: UiSessionRecord): UiSession => ({ actor: r.actor, readOnly: r.readOnly, csrf: r.csrf, expiresAt: r.expiresAt });

/** The CSRF token the request carries: header `x-csrf-token`, else form field `_csrf`. */
function csrfOf(req: FastifyRequest): string | null {
  const h = req.headers['x-csrf-token'];
  if (typeof h === 'string') return h;
  const body = req.body as Record<string, unknown> | null | undefined;
  return body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : null;
}

/** NW_CSRF unless the request is the dashboard's own, carrying the session's token (sign-out needs this only). */
export function checkCsrf(req: FastifyRequest, s: UiSession): void {
  if (!isSameOrigin(req.headers)) {
    throw new NwError('NW_CSRF', 'this request did not come from the dashboard\'s own pages (Origin / Sec-Fetch-Site): reload the page and try again');
  }
  const token = csrfOf(req);
  if (token === null || !sameSecret(token, s.csrf)) {
    throw new NwError('NW_CSRF', 'the request carries no valid CSRF token for this session: reload the page (or sign in again with `nodewright ui`) and try again');
  }
}

export function uiAuth(store: Store, o: UiAuthOptions): UiAuth {
  const ttlMs = o.sessionTtlMs ?? SESSION_TTL_MS;

  /** An operator's client certificate signs the browser in; any other caller stays signed out. */
  const certificateSession = async (req: FastifyRequest, reply: FastifyReply): Promise<UiSession | null> => {
    let actor: string;
    try {
      actor = actorOf(callerOf(req, o.operatorRoles));
    } catch {
      return null;
    }
    const now = o.now();
    const s = newSession({ actor, readOnly: false, now, ttlMs });
    await store.addUiSession(s.record, [{
      at: now.toISOString(), actor, kind: 'ui.signed-in', subject: actor, message: `${actor} signed in to the dashboard with a client certificate`,
      data: { readOnly: false, by: 'certificate' },
    }]);
    reply.header('set-cookie', sessionCookie(s.cookie, ttlMs / 1000));
    return view(s.record);
  };

  return {
    async sessionOf(req, reply) {
      const cookie = sessionCookieOf(req);
      if (cookie !== null) {
        const r = await store.getUiSession(sha256Hex(cookie), o.now().toISOString());
        if (r) return view(r);
      }
      return certificateSession(req, reply);
    },
    checkAction(req, s) {
      checkCsrf(req, s);
      if (s.readOnly) throw new NwError('NW_FORBIDDEN', `${s.actor} is signed in read-only: ask for a link without --read-only (\`nodewright ui\`) to act`);
    },
  };
}
