// `bundle push`: send a signed bundle to one agent (POST /v1/desired) through the agent client and,
// with wait, return the status of the reconcile it triggered. HTTPS agents: a client certificate of
// the fleet CA (controller or operator role); loopback HTTP agents: the bearer token. Keys and
// tokens come from files, never argv.
import { NwError, isNwError } from '../host/errors.js';
import type { AgentStatus } from '../protocol/status.js';
import { AgentCallError, AgentClient, type ClientTls } from './fleet/agent-client.js';

export interface AgentCredentials {
  token?: string;
  tls?: ClientTls;
}

export interface PushResult {
  agent: string;
  httpStatus: number;
  generation?: number;
  /** false: the agent already held this generation and content (nothing to reconcile). */
  changed?: boolean;
  status?: AgentStatus;
  /** The agent answered a status that does not match the protocol (dropped, shown instead). */
  statusProblem?: string;
}

export async function pushBundle(agentUrl: string, creds: string | AgentCredentials, bundle: unknown, o: { wait: boolean; timeoutMs: number }): Promise<PushResult> {
  const c: AgentCredentials = typeof creds === 'string' ? { token: creds } : creds;
  const url = new URL(agentUrl);
  if (url.protocol === 'https:' && !c.tls) throw new NwError('NW_USAGE', `${agentUrl} is https: pass --ca, --cert and --key (a controller or operator certificate of the fleet CA)`);
  if (url.protocol === 'http:' && !c.token) throw new NwError('NW_USAGE', `${agentUrl} is plain http: pass --token-file (or use the agent's https address with --ca/--cert/--key)`);
  const secure = url.protocol === 'https:';
  try {
    const a = await new AgentClient().push(
      { url: agentUrl, ...(secure ? { tls: c.tls } : { token: c.token }) },
      bundle,
      { deadlineMs: o.timeoutMs, wait: o.wait, who: `agent ${agentUrl}` },
    );
    return { agent: agentUrl, ...a };
  } catch (e) {
    if (isNwError(e)) throw e; // a refusal, already coded
    if (e instanceof AgentCallError && e.kind === 'too-large') throw new NwError('NW_PUSH', `the agent at ${agentUrl}: ${e.message}; is this address a nodewright agent?`);
    const err = e as NodeJS.ErrnoException;
    const why = e instanceof AgentCallError && e.kind === 'deadline' ? `no answer within ${o.timeoutMs} ms` : err.message;
    if (/certificate|self[- ]signed|altnames|SSL|TLS/i.test(`${err.code ?? ''} ${why}`)) {
      throw new NwError('NW_TLS', `TLS with the agent at ${agentUrl} failed (${err.code ?? why}): check that --ca is the fleet CA and the agent's certificate names this address`);
    }
    throw new NwError('NW_PUSH', `cannot reach the agent at ${agentUrl}: ${why}; check the address and that nodewright-agent is running`);
  }
}

/** One line per step and probe, for operators. */
export function describeStatus(s: AgentStatus): string {
  const lines = [`ready=${s.ready} converged=${s.converged} kubelet=${s.kubelet.version ?? '?'} rollbacks=${s.rollbacks}`];
  for (const st of s.steps) lines.push(`  ${st.name.padEnd(9)} ${st.state.padEnd(14)} ${st.error ? `${st.error.code}: ` : ''}${st.message}`);
  for (const p of s.probes) lines.push(`  probe ${p.name.padEnd(13)} ${p.status.padEnd(13)} ${Math.round(p.durationMs)} ms${p.error ? ` ${p.error.code}: ${p.error.message}` : ''}`);
  return lines.join('\n');
}
