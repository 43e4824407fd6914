// The dashboard's sign-in routes on the controller's TLS listener: `GET /ui/login?code=` turns a
// one-time link (`nodewright ui`) into a session cookie and lands on /ui/; `POST /ui/logout` (CSRF)
// ends the session; `GET /ui/session` says who is signed in ({actor, readOnly, csrf, expiresAt}: for
// scripts of the pages and tests). Sign-in attempts are rate limited per source address (@fastify/rate-limit, registered in
// this plugin's own scope). No code or cookie value is ever logged or echoed.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpStatusOf, isNwError, NwError } from '../../host/errors.js';
import type { ApiContext } from '../api/context.js';
import { clearedSessionCookie, sessionCookie } from './cookie.js';
import { linkRefusedPage, page, sendPage } from './login-page.js';
import { sha256Hex, SESSION_TTL_MS } from './secrets.js';
import { checkCsrf, newSession, sessionCookieOf, uiAuth } from './session.js';

/** The routes a follower of an HA set serves itself (sign-in state is not fenced): no 307 to the leader. */
export const SIGN_IN_ROUTES: ReadonlySet<string> = new Set(['/ui/login', '/ui/logout', '/ui/session', '/v1/ui/login-codes', '/v1/ui/sessions']);

const MAX_CODE_CHARS = 128;

export function loginRoutes(o: { loginPerMinute: number; sessionTtlMs?: number }) {
  const ttlMs = o.sessionTtlMs ?? SESSION_TTL_MS;
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    await app.register(async (scope) => {
      await scope.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_req, c) => new NwError('NW_RATE_LIMIT', `too many sign-in attempts from this address; wait ${Math.ceil(c.ttl / 1000)} s and try again`),
      });
      // a plain HTML form posts url-encoded (`_csrf`); htmx may post multipart: its fields are not needed
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
      scope.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 65_536 }, (_req, _body, done) => done(null, {}));
      scope.setErrorHandler((err, req, reply) => {
        const e = err as Error & { statusCode?: number };
        const code = isNwError(e) ? e.code : e.statusCode && e.statusCode < 500 ? 'NW_USAGE' : 'NW_INTERNAL';
        const status = isNwError(e) ? httpStatusOf(e.code) : e.statusCode && e.statusCode < 500 ? e.statusCode : 500;
        if (req.routeOptions.url === '/ui/session') return reply.code(status).send({ code, message: e.message });
        return sendPage(reply, status, page(status === 429 ? 'Too many attempts' : 'Refused', [`${code}: ${e.message}`]));
      });
      const auth = uiAuth(ctx.store, { now: ctx.now, operatorRoles: ctx.operatorRoles, sessionTtlMs: ttlMs });

      scope.get('/ui/login', { config: { rateLimit: { max: o.loginPerMinute, timeWindow: 60_000 } } }, async (req, reply) => {
        const code = (req.query as Record<string, unknown>).code;
        if (typeof code !== 'string' || code.length === 0 || code.length > MAX_CODE_CHARS) return sendPage(reply, 401, linkRefusedPage());
        const now = ctx.now();
        let link;
        try {
          link = await ctx.store.consumeUiLoginCode(sha256Hex(code), now.toISOString());
        } catch (e) {
          if (isNwError(e) && e.code === 'NW_TOKEN') return sendPage(reply, 401, linkRefusedPage());
          throw e;
        }
        const s = newSession({ actor: link.actor, readOnly: link.readOnly, now, ttlMs });
        await ctx.store.addUiSession(s.record, [{
          at: now.toISOString(), actor: link.actor, kind: 'ui.signed-in', subject: link.actor,
          message: `${link.actor} signed in to the dashboard by a one-time link${link.readOnly ? ' (read-only)' : ''}`,
          data: { readOnly: link.readOnly, by: 'link' },
        }]);
        return reply.code(303).headers({ 'set-cookie': sessionCookie(s.cookie, ttlMs / 1000), location: '/ui/', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();
      });

      scope.post('/ui/logout', async (req: FastifyRequest, reply) => {
        const cookie = sessionCookieOf(req);
        const s = cookie === null ? null : await ctx.store.getUiSession(sha256Hex(cookie), ctx.now().toISOString());
        if (s) {
          checkCsrf(req, s); // a viewer may sign out too: no read-only check
          await ctx.store.endUiSession(s.idHash);
        }
        return reply.code(303).headers({ 'set-cookie': clearedSessionCookie(), location: '/ui/', 'cache-control': 'no-store' }).send();
      });

      scope.get('/ui/session', async (req, reply) => {
        const s = await auth.sessionOf(req, reply);
        if (!s) throw new NwError('NW_AUTH', 'not signed in to the dashboard: run `nodewright ui` and open the link it prints');
        reply.header('cache-control', 'no-store');
        // the CSRF token too: a same-origin read (no CORS here), as the pages' <meta name="csrf-token">
        return { actor: s.actor, readOnly: s.readOnly, csrf: s.csrf, expiresAt: s.expiresAt };
      });
    });
  };
}
