// The operator's side of dashboard sign-in: `POST /v1/ui/login-codes {readOnly?}` mints a one-time
// code (valid 60 s) that `nodewright ui` turns into a link; `DELETE /v1/ui/sessions` ends every
// dashboard session, or with `?operator=NAME` those of one operator (`nodewright ui --revoke
// [--operator NAME]`: someone leaves). Operators only; both recorded in the audit log.
// Any controller of an HA set answers them itself (sign-in state is not fenced by the leader).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { mintLoginCode } from '../../ui/secrets.js';
import { actorOf, callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const LoginCodeBody = Type.Object({ readOnly: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
/** A certificate's common name: one line. */
const RevokeQuery = Type.Object({ operator: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\x00-\\x1f\\x7f]+$' })) }, { additionalProperties: false });

/** The answer of POST /v1/ui/login-codes. */
export interface LoginCodeJson { code: string; expiresAt: string }

export async function uiSessionRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.post('/v1/ui/login-codes', { schema: { body: LoginCodeBody } }, async (req, reply): Promise<LoginCodeJson> => {
    const actor = actorOf(callerOf(req, ctx.operatorRoles));
    const readOnly = (req.body as { readOnly?: boolean }).readOnly === true;
    const now = ctx.now();
    const { code, record } = mintLoginCode({ actor, readOnly, now });
    await ctx.store.addUiLoginCode(record, [{
      at: now.toISOString(), actor, kind: 'ui.link', subject: actor,
      message: `${actor} made a one-time dashboard sign-in link${readOnly ? ' (read-only)' : ''}`, data: { readOnly, expiresAt: record.expiresAt },
    }]);
    reply.header('cache-control', 'no-store');
    return { code, expiresAt: record.expiresAt };
  });

  app.delete('/v1/ui/sessions', { schema: { querystring: RevokeQuery } }, async (req) => {
    const actor = actorOf(callerOf(req, ctx.operatorRoles));
    const operator = (req.query as { operator?: string }).operator;
    const at = ctx.now().toISOString();
    // a session's actor is ROLE:NAME for one of the operator roles
    const actors = operator === undefined ? undefined : ctx.operatorRoles.map((role) => actorOf({ role, name: operator }));
    const revoked = await ctx.store.revokeUiSessions((n) => [{
      at, actor, kind: 'ui.revoked', subject: operator === undefined ? 'dashboard' : `operator:${operator}`,
      message: `${actor} ended ${n} dashboard session${n === 1 ? '' : 's'}${operator === undefined ? '' : ` of ${operator}`}`,
      data: { revoked: n, ...(operator === undefined ? {} : { operator }) },
    }], actors);
    return { revoked };
  });
}
