// A follower's dashboard acts through the leader: a rollout command an operator gives on a
// follower's page (session and CSRF checked there) is sent to the leader's API over mutual TLS with
// this controller's own certificate (role controller), naming the operator it acts for; the leader
// records that operator as the actor, as if the command came from the leader's own page.
import { ERROR_CATALOGUE, NwError, type ErrorCode } from '../../host/errors.js';
import { requestJson } from '../../host/http-json.js';
import { checkControllerIdentity } from '../../pki/index.js';

/** The action routes a follower serves itself (the HA hook answers other writes 307). */
export const UI_ACTION_ROUTE = '/ui/rollouts/:id/:command';
export const UI_BULK_ROUTE = '/ui/rollouts/bulk/:command';
export const UI_ACTION_ROUTES: ReadonlySet<string> = new Set([UI_ACTION_ROUTE, UI_BULK_ROUTE]);
/** Who a controller's forwarded command acts for (`operator:NAME`). */
export const ACTOR_HEADER = 'x-nodewright-actor';
const ACTOR = /^[a-z]+:[A-Za-z0-9._@-]{1,253}$/;

export type LeaderCommand = (leader: string, id: string, command: string, actor: string) => Promise<void>;

export function leaderCommand(tls: () => { ca: string; cert: string; key: string }, timeoutMs = 10_000): LeaderCommand {
  return async (leader, id, command, actor) => {
    const url = new URL(`/v1/rollouts/${encodeURIComponent(id)}/${encodeURIComponent(command)}`, leader);
    let r;
    try {
      r = await requestJson(url, { method: 'POST', body: '{}', headers: { [ACTOR_HEADER]: actor }, timeoutMs, ...tls(), checkServerIdentity: checkControllerIdentity });
    } catch (e) {
      throw new NwError('NW_NOT_LEADER', `cannot reach the leading controller at ${leader} (${(e as Error).message}): try again in a few seconds`);
    }
    if (r.status === 307) throw new NwError('NW_NOT_LEADER', 'the fleet is changing leaders: try again in a few seconds');
    if (r.status >= 300) {
      const code: ErrorCode = typeof r.json?.code === 'string' && r.json.code in ERROR_CATALOGUE ? r.json.code : 'NW_INTERNAL';
      throw new NwError(code, `the leading controller refused: ${typeof r.json?.message === 'string' ? r.json.message : r.text.slice(0, 300)}`);
    }
  };
}

/** The actor a controller names for a forwarded command; NW_USAGE when absent or malformed. */
export function forwardedActor(header: string | string[] | undefined): string {
  if (typeof header === 'string' && ACTOR.test(header)) return header;
  throw new NwError('NW_USAGE', `a command forwarded by a controller names the operator it acts for in ${ACTOR_HEADER} (role:name)`);
}
