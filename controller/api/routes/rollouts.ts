// Rollouts:
//   POST /v1/rollouts                      {group?|labels?|nodes?, desired, strategy} → the new rollout
//   GET  /v1/rollouts?limit=N&cursor=C     summaries, newest first, a page at a time ({rollouts, next})
//   GET  /v1/rollouts/:id                  state + what it waits for and the time left
//   POST /v1/rollouts/:id/{pause,resume,abort,rollback}   (an operator, or a controller forwarding its dashboard's operator)
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NwError } from '../../../host/errors.js';
import type { Command } from '../../rollout/engine.js';
import { resolveRolloutDesired } from '../../rollout/desired.js';
import type { FailureDomainSource } from '../../rollout/domains.js';
import type { RolloutExecutor } from '../../rollout/executor.js';
import { parseStrategy, type StrategyInput } from '../../rollout/strategy.js';
import { resolveTarget } from '../../rollout/target.js';
import { rolloutView } from '../../rollout/view.js';
import { ACTOR_HEADER, forwardedActor } from '../../ui/forward.js';
import { actorOf, callerOf } from '../auth.js';
import type { ApiContext } from '../context.js';

interface StartBody {
  group?: string;
  labels?: Record<string, string>;
  nodes?: string[];
  desired: Record<string, unknown>;
  strategy?: StrategyInput;
}

// Shapes only (the desired state and the strategy are checked in depth by their parsers, with
// messages naming the key): a body of the wrong shape is a 400 naming the field, never a 500.
const Name = Type.String({ minLength: 1, maxLength: 253 });
const StartBodySchema = Type.Object(
  {
    group: Type.Optional(Name),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }))),
    nodes: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 100_000 })),
    desired: Type.Object({}),
    strategy: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }) });
const CommandParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }),
  command: Type.String({ maxLength: 32 }),
});
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) },
  { additionalProperties: false },
);


const newId = () => `r-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;

/**
 * `artifactBaseUrl`: where agents download artifacts (controller.yaml `url`). `failureDomain`: the
 * source a rollout uses when its strategy names none (controller.yaml `failureDomain`); default none.
 * `preflight`: refuses a rollout that must not start (it throws a coded error).
 */
export function rolloutRoutes(executor: RolloutExecutor, o: { artifactBaseUrl: string; failureDomain?: () => FailureDomainSource; preflight?: (desired: unknown) => Promise<void> }) {
  return async function routes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
    const get = async (id: string) => {
      const r = await ctx.store.getRollout(id);
      if (!r) throw new NwError('NW_NOT_FOUND', `no rollout ${id}: see \`nodewright rollout ls\``);
      return r;
    };

    app.post('/v1/rollouts', { schema: { body: StartBodySchema } }, async (req) => {
      const who = callerOf(req, ctx.operatorRoles);
      const b = (req.body ?? {}) as StartBody;
      if (typeof b.desired !== 'object' || b.desired === null || Array.isArray(b.desired)) throw new NwError('NW_USAGE', 'the rollout needs `desired` (the desired-state YAML as an object)');
      const strategy = parseStrategy(b.strategy ?? {});
      const t = await resolveTarget(ctx.store, b, strategy.failureDomain ?? o.failureDomain?.() ?? 'none');
      const ceph = b.desired.ceph as Record<string, unknown> | undefined;
      if (ceph && typeof ceph === 'object' && 'keyringFile' in ceph) throw new NwError('NW_USAGE', 'send ceph.keyring (`nodewright rollout start` reads ceph.keyringFile on your machine), not a path on the controller');
      // the CLI sent the keyring it read from keyringFile; kubelet {kind: binary, version} comes from the artifact store
      const desired = resolveRolloutDesired(b.desired, { artifacts: await ctx.store.listArtifacts(), artifactBaseUrl: o.artifactBaseUrl, baseDir: '/', keyring: 'inline' }, 'the rollout desired state');
      await o.preflight?.(desired); // e.g. the Ceph cluster it names must answer (controller/gates/checks.ts)
      const state = await executor.create({ id: newId(), ...t, strategy, desired, actor: actorOf(who) });
      return rolloutView(state, ctx.now().toISOString());
    });

    app.get('/v1/rollouts', { schema: { querystring: ListQuery } }, async (req) => {
      callerOf(req, ctx.operatorRoles);
      const q = req.query as { limit?: number; cursor?: string };
      return ctx.store.listRollouts({ limit: q.limit, cursor: q.cursor });
    });

    app.get('/v1/rollouts/:id', { schema: { params: IdParams } }, async (req) => {
      callerOf(req, ctx.operatorRoles);
      const r = await get((req.params as { id: string }).id);
      // retention dropped the per-node detail of this finished rollout: say so, with its summary
      if (r.pruned) return { ...rolloutView(r.state, ctx.now().toISOString()), pruned: true, summary: r.summary };
      return rolloutView(r.state, ctx.now().toISOString());
    });

    app.post('/v1/rollouts/:id/:command', { schema: { params: CommandParams } }, async (req) => {
      // a follower's dashboard forwards its operator's command with its own certificate (ui/forward.ts)
      const who = callerOf(req, [...ctx.operatorRoles, 'controller']);
      const actor = who.role === 'controller' ? forwardedActor(req.headers[ACTOR_HEADER]) : actorOf(who);
      const { id, command } = req.params as { id: string; command: string };
      if (!['pause', 'resume', 'abort', 'rollback'].includes(command)) throw new NwError('NW_NOT_FOUND', `no rollout command ${command}: use pause, resume, abort or rollback`);
      await get(id);
      const state = await executor.command(id, { kind: command as Command['kind'], actor });
      return rolloutView(state, ctx.now().toISOString());
    });
  };
}
