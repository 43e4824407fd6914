// Push a signed bundle to one agent (POST /v1/desired) and, with wait, return the status of the
// reconcile it triggered. HTTPS agents: a client certificate of the fleet CA (controller or operator
// role); loopback HTTP agents: the bearer token. Keys and tokens come from files, never argv.
import { NwError, type ErrorCode } from '../host/errors.js';
import type { AgentStatus } from '../protocol/status.js';
import { agentRequest, type AgentCredentials } from './agent-http.js';

export interface PushResult {
  agent: string;
  httpStatus: number;
  generation?: number;
  /** false: the agent already held this generation and content (nothing to reconcile). */
  changed?: boolean;
  status?: AgentStatus;
}

/** Refusals whose agent message already says what to do: shown under their own code. */
const REPLAY_CODES = new Set(['NW_STALE', 'NW_GENERATION_CONFLICT', 'NW_EXPIRED', 'NW_TARGET']);

export async function pushBundle(agentUrl: string, creds: string | AgentCredentials, bundle: unknown, o: { wait: boolean; timeoutMs: number }): Promise<PushResult> {
  const c: AgentCredentials = typeof creds === 'string' ? { token: creds } : creds;
  const url = new URL('/v1/desired', agentUrl);
  if (url.protocol === 'https:' && !c.tls) throw new NwError('NW_USAGE', `${agentUrl} is https: pass --ca, --cert and --key (a controller or operator certificate of the fleet CA)`);
  if (url.protocol === 'http:' && !c.token) throw new NwError('NW_USAGE', `${agentUrl} is plain http: pass --token-file (or use the agent's https address with --ca/--cert/--key)`);
  if (o.wait) url.searchParams.set('wait', '1');
  let res;
  try {
    res = await agentRequest(url, { method: 'POST', body: bundle, creds: c, timeoutMs: o.timeoutMs });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { cause?: Error };
    const why = err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${o.timeoutMs} ms` : (err.cause?.message ?? err.message);
    if (/certificate|self[- ]signed|altnames|SSL|TLS/i.test(`${err.code ?? ''} ${why}`)) {
      throw new NwError('NW_TLS', `TLS with the agent at ${agentUrl} failed (${err.code ?? why}): check that --ca is the fleet CA and the agent's certificate names this address`);
    }
    throw new NwError('NW_PUSH', `cannot reach the agent at ${agentUrl}: ${why}; check the address and that nodewright-agent is running`);
  }
  const body = res.body as { code?: string; message?: string; generation?: number; changed?: boolean; status?: AgentStatus };
  if (res.status === 401) {
    throw new NwError('NW_AUTH', c.tls ? `agent ${agentUrl} refused the client certificate: ${body.message ?? 'use one issued by the fleet CA'}` : `agent ${agentUrl} refused the token: use the token file installed on the worker (/etc/nodewright/token)`);
  }
  if (res.status === 403) throw new NwError('NW_FORBIDDEN', `agent ${agentUrl}: ${body.message ?? 'this certificate\'s role may not push'}`);
  if (res.status >= 400 && REPLAY_CODES.has(body.code ?? '')) throw new NwError(body.code as ErrorCode, `agent ${agentUrl} refused the bundle: ${body.message ?? ''}`);
  if (res.status >= 400) throw new NwError('NW_PUSH', `agent ${agentUrl} refused the bundle (${res.status}): ${body.code ?? ''} ${body.message ?? ''}`.trim());
  return { agent: agentUrl, httpStatus: res.status, generation: body.generation, ...(body.changed === false ? { changed: false } : {}), status: body.status };
}

/** One line per step and probe, for operators. */
export function describeStatus(s: AgentStatus): string {
  const lines = [`ready=${s.ready} converged=${s.converged} kubelet=${s.kubelet.version ?? '?'} rollbacks=${s.rollbacks}`];
  for (const st of s.steps) lines.push(`  ${st.name.padEnd(9)} ${st.state.padEnd(14)} ${st.error ? `${st.error.code}: ` : ''}${st.message}`);
  for (const p of s.probes) lines.push(`  probe ${p.name.padEnd(13)} ${p.status.padEnd(13)} ${Math.round(p.durationMs)} ms${p.error ? ` ${p.error.code}: ${p.error.message}` : ''}`);
  return lines.join('\n');
}
