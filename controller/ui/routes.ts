// The dashboard's pages under /ui/ (registered by the daemon through extraRoutes): fleet, node,
// rollouts, rollout (with its actions), events, their live streams, and the static files — with
// the security headers (CSP without inline script or style) on all of them and nowhere else.
// Every page is signed-in only (401 "Sign in" page otherwise). Reads come from memory (the fleet
// view, the poller's last status) or a few store queries, never one per node; nothing here writes
// except the executor's commands, which go through the session's CSRF check first.
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, isNwError, NwError } from '../../host/errors.js';
import type { AgentStatus } from '../../protocol/status.js';
import type { ApiContext } from '../api/context.js';
import type { AskedStatus } from '../fleet/ask-status.js';
import type { FleetView } from '../fleet/view.js';
import type { Command, RolloutState } from '../rollout/engine.js';
import type { ControllerEvent, EventQuery, NodeRecord } from '../store/store.js';
import { bulkRequest, bulkTargets, isBulkCommand, NAME, parseForm, type BulkCommand, type BulkOutcome } from './bulk.js';
import { assetUrls, CSP_DIRECTIVES, staticDir } from './assets.js';
import type { Changes } from './changes.js';
import { UI_ACTION_ROUTE, UI_BULK_ROUTE, type LeaderCommand } from './forward.js';
import { fleetSummary, type FleetFilter, type FleetNode } from './fleet-model.js';
import { href, html, type Html } from './html.js';
import { bare, notFoundPage, page, signInPage, type Shell } from './layout.js';
import { fleetFeed, regionFeed, sharedRegions, type Region } from './live.js';
import { eventsView } from './pages/events.js';
import { fleetView } from './pages/fleet.js';
import { nodeLive, nodeView } from './pages/node.js';
import { rolloutLive, rolloutView } from './pages/rollout.js';
import { rolloutNodesView } from './pages/rollout-nodes.js';
import { rolloutsLive, rolloutsView } from './pages/rollouts.js';
import { rolloutModel, type NodeEvidence } from './rollout-model.js';
import { isPhase, nodePage, PHASES, phaseCounts } from './rollout-rows.js';
import { uiAuth, type UiAuth, type UiSession } from './session.js';
import { SseStreams } from './sse.js';

export interface UiDeps {
  view: FleetView;
  /** The leader poller's last status of an agent (null on a follower, or before the first poll). */
  latest: (name: string) => { status: AgentStatus | null } | null;
  /** The agent's status asked once, for a node page this controller has no poll of (a follower's). */
  askStatus?: (node: NodeRecord) => Promise<AskedStatus>;
  executor: { command(id: string, cmd: Command): Promise<RolloutState> };
  /** HA: a follower sends its operators' commands to the leader (ui/forward.ts). */
  forward?: LeaderCommand;
  changes: Changes;
  queryEvents: (q: EventQuery) => Promise<ControllerEvent[]>;
  /** Default: the sign-in module over the store. */
  auth?: UiAuth;
  /** Where the static files are (default: found beside this module or the bundle). */
  staticDir?: string;
}

const COMMANDS: readonly Command['kind'][] = ['pause', 'resume', 'abort', 'rollback'];
const EVENTS_PAGE = 100;
const ROLLOUTS_PAGE = 50;
const YEAR_S = 365 * 24 * 3600;

const str = (v: unknown, max = 256): string | undefined => (typeof v === 'string' && v !== '' && v.length <= max ? v : undefined);

/** Every node of the view as the fleet page needs it (memory only: no row per node). */
export function fleetNodes(view: FleetView): FleetNode[] {
  const out: FleetNode[] = [];
  for (const e of view.entries()) out.push({ name: e.name, labels: e.labels, hypervisor: e.hypervisor, hypervisorRule: e.hypervisorRule, health: e.obs.health, reason: e.obs.reason, ready: e.obs.ready });
  return out;
}

const filterOf = (q: Record<string, unknown>): FleetFilter => ({ domain: str(q.domain), label: str(q.label, 400), state: str(q.state, 16), name: str(q.name, 128) });

export function uiRoutes(d: UiDeps) {
  return async function routes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
    await app.register(async (ui) => {
      let dir: string;
      try {
        dir = d.staticDir ?? staticDir();
      } catch (e) {
        // a dev build without its assets: the fleet API still serves; the dashboard says what to do
        ui.get('/ui/*', async () => {
          throw e;
        });
        return;
      }
      const shell: Shell = { assets: assetUrls(dir) };
      const auth = d.auth ?? uiAuth(ctx.store, { now: ctx.now, operatorRoles: ctx.operatorRoles });
      const streams = new SseStreams(500);
      const regions = sharedRegions({ changes: d.changes });
      ui.addHook('preClose', async () => streams.closeAll());
      if (!ui.hasContentTypeParser('application/x-www-form-urlencoded')) {
        ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, parseForm(body as string)));
      }
      // any other body (text/plain, multipart, none at all) is read and ignored, so the action's
      // session and CSRF checks answer (403 NW_CSRF without the header token), not a 415
      if (!ui.hasContentTypeParser('*')) {
        ui.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, {}));
      }
      await ui.register(helmet, { global: true, contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES } });
      await ui.register(fastifyStatic, { root: dir, prefix: '/ui/static/', decorateReply: false, cacheControl: false, etag: true, index: false, wildcard: false, allowedPath: (p) => /^\/[a-z.-]+$/.test(p) });
      // versioned names (?v=hash) may be kept for a year; anything else is revalidated (ETag)
      ui.addHook('onSend', async (req, reply) => {
        if (!req.url.startsWith('/ui/static/')) reply.header('cache-control', 'no-store');
        else reply.header('cache-control', (req.query as { v?: string }).v ? `public, max-age=${YEAR_S}, immutable` : 'no-cache');
      });

      const send = (reply: FastifyReply, body: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body.text);
      /** The session, or the 401 "Sign in" page answered (null). */
      const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<UiSession | null> => {
        const s = await auth.sessionOf(req, reply);
        if (!s) send(reply, signInPage(shell), 401);
        return s;
      };
      ui.setErrorHandler((err, _req, reply) => {
        const code = isNwError(err) ? err.code : 'NW_INTERNAL';
        const status = isNwError(err) ? httpStatusOf(err.code) : (err as { statusCode?: number }).statusCode ?? 500;
        return send(reply, bare(shell, 'Error', html`<h1>Error</h1><p role="alert"><strong>${code}</strong>: ${(err as Error).message}</p><p><a href="/ui/">Fleet</a></p>`), status);
      });
      /** The command run here (this controller leads, or is the only one) or forwarded to the leader. */
      const command = async (id: string, kind: Command['kind'], actor: string): Promise<RolloutState> => {
        if (!ctx.leadership || ctx.leadership.leading()) return d.executor.command(id, { kind, actor });
        const leader = await ctx.leadership.leaderUrl();
        if (!leader || !d.forward) throw new NwError('NW_NOT_LEADER', 'no controller leads the fleet right now (an election is under way); try again in a few seconds');
        await d.forward(leader, id, kind, actor);
        const r = await ctx.store.getRollout(id); // the leader committed it before answering
        if (!r) throw new NwError('NW_NOT_FOUND', `rollout ${id} is gone`);
        return r.state;
      };
      const evidence = (name: string): NodeEvidence | null => {
        const obs = d.view.observation(name);
        if (!obs) return null;
        return { status: d.latest(name)?.status ?? null, reason: obs.reason, health: obs.health };
      };
      /** The inside of #node-live, or null when no such node is enrolled. */
      const renderNode = async (name: string): Promise<Html | null> => {
        const node = await ctx.store.getNode(name);
        if (!node) return null;
        const [history, events] = await Promise.all([ctx.store.desiredHistory(name, 20), d.queryEvents({ subject: name, limit: 50 })]);
        const obs = d.view.observation(name);
        // the view holds the newest observation (the poller's on the leader, the database's on a follower)
        const shown = obs ? { ...node, health: obs.health, reason: obs.reason, generation: obs.generation, converged: obs.converged, ready: obs.ready } : node;
        const polled = d.latest(name); // null: this controller has not polled the node (a follower)
        const asked = polled || !d.askStatus ? null : await d.askStatus(node);
        const status = polled?.status ?? (asked && 'status' in asked ? asked.status : null);
        return nodeLive({ node: shown, status, unanswered: asked && 'problem' in asked ? asked.problem : null, history, events, now: ctx.now() });
      };
      const renderLive = async (state: RolloutState, pruned: boolean) => {
        const m = rolloutModel(state, ctx.now().toISOString(), evidence, pruned);
        return { m, live: rolloutLive(m) };
      };

      ui.get('/ui', async (_req, reply) => reply.redirect('/ui/', 301));

      ui.get('/ui/', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const f = filterOf(req.query as Record<string, unknown>);
        const since = d.changes.id; // read before the view: a change after it moves the revision on
        return send(reply, page(shell, s, 'Fleet', fleetView(fleetSummary(fleetNodes(d.view), f), f, since)));
      });

      ui.get('/ui/nodes/:name', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const name = (req.params as { name: string }).name;
        const since = d.changes.id;
        const live = NAME.test(name) ? await renderNode(name) : null;
        if (!live) return send(reply, notFoundPage(shell, s, `No node ${name} is enrolled.`, { href: '/ui/', text: 'Back to the fleet' }), 404);
        return send(reply, page(shell, s, name, nodeView(name, live, `${href('live', 'nodes', name)}?since=${encodeURIComponent(since)}`)));
      });

      /** A page of the rollouts list and how many rollouts "Pause all running" applies to. */
      const rolloutsPage = async (cursor: string | undefined) => {
        const [list, active] = await Promise.all([ctx.store.listRollouts({ limit: ROLLOUTS_PAGE, cursor }), ctx.store.activeRollouts()]);
        return { list, running: bulkTargets('pause', active.map((r) => r.state)).length };
      };

      ui.get('/ui/rollouts', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const cursor = str((req.query as Record<string, unknown>).cursor, 512);
        const { list, running } = await rolloutsPage(cursor);
        return send(reply, page(shell, s, 'Rollouts', rolloutsView(list, { running, cursor: cursor ?? null })));
      });

      ui.get('/ui/rollouts/:id', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const id = (req.params as { id: string }).id;
        const r = NAME.test(id) ? await ctx.store.getRollout(id) : null;
        if (!r) return send(reply, notFoundPage(shell, s, `No rollout ${id}.`, { href: '/ui/rollouts', text: 'All rollouts' }), 404);
        const since = d.changes.id;
        const { m, live } = await renderLive(r.state, r.pruned === true);
        return send(reply, page(shell, s, `Rollout ${id}`, rolloutView(m, live, `${href('live', 'rollouts', id)}?since=${encodeURIComponent(since)}`)));
      });

      // every node of a rollout, a page at a time, filtered by phase (the live region shows few of a large one)
      ui.get('/ui/rollouts/:id/nodes', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const id = (req.params as { id: string }).id;
        const q = req.query as Record<string, unknown>;
        const phase = str(q.phase, 32) ?? null;
        if (phase !== null && !isPhase(phase)) throw new NwError('NW_USAGE', `no node phase ${phase}: use one of ${PHASES.join(', ')}`);
        const pageText = str(q.page, 12);
        const pageNo = pageText === undefined ? 1 : Number(pageText);
        if (!Number.isSafeInteger(pageNo) || pageNo < 1) throw new NwError('NW_USAGE', `page must be a whole number from 1 (got ${pageText})`);
        const r = NAME.test(id) ? await ctx.store.getRollout(id) : null;
        if (!r) return send(reply, notFoundPage(shell, s, `No rollout ${id}.`, { href: '/ui/rollouts', text: 'All rollouts' }), 404);
        const nodes = r.state.nodes;
        return send(reply, page(shell, s, `Rollout ${id}: nodes`, rolloutNodesView({ id, page: nodePage(nodes, { phase, page: pageNo }), counts: phaseCounts(nodes), total: nodes.length, pruned: r.pruned === true })));
      });

      // an action's error goes to the page's alert region, whatever the button targets
      const refuse = (reply: FastifyReply, code: NwError['code'], message: string) =>
        reply.code(httpStatusOf(code)).header('hx-retarget', '#action-error').header('hx-reswap', 'innerHTML').type('text/html; charset=utf-8').send(html`<strong>${code}</strong>: ${message}`.text);
      /** The session allowed to act (CSRF, Origin, not read-only), or a coded error. */
      const actingAs = async (req: FastifyRequest, reply: FastifyReply, commandOk: boolean, commandError: string): Promise<string> => {
        const s = await auth.sessionOf(req, reply);
        if (!s) throw new NwError('NW_AUTH', 'signed out: run `nodewright ui` for a new sign-in link');
        if (!commandOk) throw new NwError('NW_NOT_FOUND', commandError);
        auth.checkAction(req, s);
        return s.actor;
      };

      // pause, resume or abort many rollouts: each on its own (one refusal does not stop the others),
      // answered by the outcome per rollout and the page's rows re-rendered
      ui.post(UI_BULK_ROUTE, async (req, reply) => {
        const { command: cmd } = req.params as { command: string };
        try {
          const who = await actingAs(req, reply, isBulkCommand(cmd), `no bulk rollout command ${cmd}: use pause, resume or abort`);
          const kind = cmd as BulkCommand;
          const body = req.body as Record<string, unknown> | null;
          const r = bulkRequest(kind, body);
          const ids = r.all ? bulkTargets('pause', (await ctx.store.activeRollouts()).map((x) => x.state)) : r.ids;
          const list: BulkOutcome[] = [];
          for (const id of ids) {
            try {
              if (!(await ctx.store.getRollout(id))) throw new NwError('NW_NOT_FOUND', `no rollout ${id}`);
              const st = await command(id, kind, who); // on a follower: forwarded to the leader
              list.push({ id, done: true, code: null, message: st.state });
            } catch (e) {
              if (!isNwError(e)) req.log.error({ err: e, rollout: id }, 'bulk rollout command failed');
              list.push(isNwError(e) ? { id, done: false, code: e.code, message: e.message } : { id, done: false, code: 'NW_INTERNAL', message: 'unexpected error: see the controller log' });
            }
          }
          if (list.some((x) => x.done)) d.changes.bump();
          const cursor = str(body?.cursor, 512);
          const now = await rolloutsPage(cursor);
          return send(reply, rolloutsLive(now.list, { running: now.running, cursor: cursor ?? null, outcomes: { kind, list } }));
        } catch (e) {
          if (isNwError(e)) return refuse(reply, e.code, e.message);
          throw e;
        }
      });

      ui.post(UI_ACTION_ROUTE, async (req, reply) => {
        const { id, command: cmd } = req.params as { id: string; command: string };
        try {
          const who = await actingAs(req, reply, (COMMANDS as string[]).includes(cmd), `no rollout command ${cmd}: use pause, resume, abort or rollback`);
          if (!NAME.test(id) || !(await ctx.store.getRollout(id))) throw new NwError('NW_NOT_FOUND', `no rollout ${id}`);
          const state = await command(id, cmd as Command['kind'], who);
          d.changes.bump();
          return send(reply, (await renderLive(state, false)).live);
        } catch (e) {
          if (isNwError(e)) return refuse(reply, e.code, e.message);
          throw e;
        }
      });

      ui.get('/ui/events', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const q = req.query as Record<string, unknown>;
        const f = { subject: str(q.subject), actor: str(q.actor), kind: str(q.kind) };
        const before = Number(str(q.before, 20));
        const events = await d.queryEvents({ ...f, beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined, limit: EVENTS_PAGE });
        return send(reply, page(shell, s, 'Events', eventsView(events, f, events.length === EVENTS_PAGE ? events[events.length - 1].id : null)));
      });

      // live (live.ts): a named `fleet` event with the changed tiles and headers (JSON), never the whole page
      ui.get('/ui/live/fleet', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const q = req.query as Record<string, unknown>;
        const f = filterOf(q);
        const lastId = str(req.headers['last-event-id'], 64) ?? str(q.since, 64);
        streams.start(req, reply, fleetFeed({ changes: d.changes, lastId, summary: () => fleetSummary(fleetNodes(d.view), f) }));
        return reply;
      });

      /** A page's live region on this stream, re-rendered (shared by its open streams) when something moved. */
      const streamRegion = (req: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<Region>) => {
        const lastId = str(req.headers['last-event-id'], 64) ?? str((req.query as Record<string, unknown>).since, 64);
        streams.start(req, reply, regionFeed({ changes: d.changes, lastId, render: () => regions(key, render) }));
        return reply;
      };

      // live: the inside of #node-live
      ui.get('/ui/live/nodes/:name', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const name = (req.params as { name: string }).name;
        if (!NAME.test(name) || !(await ctx.store.getNode(name))) throw new NwError('NW_NOT_FOUND', `no node ${name} is enrolled`);
        return streamRegion(req, reply, `node:${name}`, async () => {
          const live = await renderNode(name);
          if (!live) throw new NwError('NW_NOT_FOUND', `node ${name} is no longer enrolled`);
          return { text: live.text, countdown: false };
        });
      });

      // live: the inside of #rollout-live (also re-rendered each second while its countdown runs)
      ui.get('/ui/live/rollouts/:id', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        const id = (req.params as { id: string }).id;
        if (!NAME.test(id) || !(await ctx.store.getRollout(id))) throw new NwError('NW_NOT_FOUND', `no rollout ${id}`);
        return streamRegion(req, reply, `rollout:${id}`, async () => {
          const r = await ctx.store.getRollout(id);
          if (!r) throw new NwError('NW_NOT_FOUND', `rollout ${id} is gone`);
          const { m, live } = await renderLive(r.state, r.pruned === true);
          return { text: live.text, countdown: m.timeLeft !== null };
        });
      });

      // anything else under /ui/: the signed-out see the sign-in page, the signed-in a 404 page
      ui.get('/ui/*', async (req, reply) => {
        const s = await signedIn(req, reply);
        if (!s) return reply;
        return send(reply, notFoundPage(shell, s, `No page ${req.url}.`, { href: '/ui/', text: 'Fleet' }), 404);
      });
    });
  };
}
