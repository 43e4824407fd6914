// STAND-IN until the sign-in module lands (dashboard contract: controller/ui/session.ts): a browser
// presenting an operator client certificate is signed in; nothing else is. The CSRF token is
// derived from the actor with a per-process secret. Replaced as a whole by the real module.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NwError } from '../../host/errors.js';
import type { Role } from '../../pki/index.js';
import { actorOf, callerOf } from '../api/auth.js';
import type { Store } from '../store/store.js';

export interface UiSession { actor: string; readOnly: boolean; csrf: string; expiresAt: string }
export interface UiAuth {
  sessionOf(req: FastifyRequest, reply: FastifyReply): Promise<UiSession | null>;
  checkAction(req: FastifyRequest, s: UiSession): void;
}

export function uiAuth(_store: Store, o: { now: () => Date; operatorRoles: Role[] }): UiAuth {
  const secret = randomBytes(32);
  return {
    async sessionOf(req) {
      try {
        const actor = actorOf(callerOf(req, o.operatorRoles));
        return { actor, readOnly: false, csrf: createHmac('sha256', secret).update(actor).digest('hex'), expiresAt: new Date(o.now().getTime() + 3_600_000).toISOString() };
      } catch {
        return null;
      }
    },
    checkAction(req, s) {
      const sent = req.headers['x-csrf-token'] ?? (req.body as { _csrf?: string } | undefined)?._csrf;
      const ok = typeof sent === 'string' && sent.length === s.csrf.length && timingSafeEqual(Buffer.from(sent), Buffer.from(s.csrf));
      if (!ok) throw new NwError('NW_FORBIDDEN', 'this action needs the page\'s CSRF token: reload the page and try again');
      if (s.readOnly) throw new NwError('NW_FORBIDDEN', `${s.actor} signed in read-only: ask for a sign-in link without --read-only`);
    },
  };
}
