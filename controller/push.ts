// Push a signed bundle to one agent (POST /v1/desired with the bearer token) and, with wait,
// return the status of the reconcile it triggered. The token comes from a file, never argv.
import { NwError, type ErrorCode } from '../host/errors.js';
import type { AgentStatus } from '../protocol/status.js';

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

export async function pushBundle(agentUrl: string, token: string, bundle: unknown, o: { wait: boolean; timeoutMs: number }): Promise<PushResult> {
  const url = new URL('/v1/desired', agentUrl);
  if (o.wait) url.searchParams.set('wait', '1');
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(bundle),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : ((e as { cause?: Error }).cause?.message ?? (e as Error).message);
    throw new NwError('NW_PUSH', `cannot reach the agent at ${agentUrl}: ${why}; check the address and that nodewright-agent is running`);
  }
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; generation?: number; changed?: boolean; status?: AgentStatus };
  if (res.status === 401) throw new NwError('NW_AUTH', `agent ${agentUrl} refused the token: use the token file installed on the worker (/etc/nodewright/token)`);
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
