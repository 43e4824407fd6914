// The one way the controller (daemon and CLI) talks to an agent: the poller's GET /v1/status, the
// rollout push and `bundle push` (POST /v1/desired). Nothing an agent answers is trusted: bodies are
// capped (abort on excess), every request has a total deadline (a steady trickle is cut, not only
// a silent peer), JSON is parsed without throwing, a status is checked against the protocol's schema
// (a mismatch is an outcome naming the field), and refusals are mapped to coded errors here only.
// Enrolled nodes: mutual TLS over the controller's keep-alive agent, the peer pinned to the
// certificate issued at enrollment (agent-tls.ts). Loopback agents: plain HTTP with the bearer token.
// node:https rather than fetch: Node 20's fetch cannot present a client certificate.
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Value } from '@sinclair/typebox/value';
import { NwError, type ErrorCode } from '../../host/errors.js';
import { AgentStatusSchema, type AgentStatus } from '../../protocol/status.js';
import { nodeTls, socketProblem, type NodeIdentity } from './agent-tls.js';
import type { PollOutcome } from './health.js';
import { agentText } from './sanitize.js';

export const STATUS_MAX_BYTES = 256 * 1024;
export const PUSH_ANSWER_MAX_BYTES = 64 * 1024;

export interface ClientTls {
  /** PEM contents, not file names. */
  ca: string;
  cert: string;
  key: string;
}

/** Where an agent is and how to prove who we are (and check who it is). */
export interface AgentTarget {
  url: string;
  /** An enrolled node: mutual TLS over the client's agent, the peer pinned to the enrolled certificate. */
  node?: NodeIdentity;
  /** A loopback HTTP agent (standalone use, tests). */
  token?: string;
  /** An agent addressed by hand (`bundle push`): a client certificate, the peer checked against the CA and its address. */
  tls?: ClientTls;
}

export interface AgentAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON answer; `{}` when empty, `{ message }` (its start) when not JSON. */
  body: unknown;
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The answer's body is cut (and the request aborted) beyond this many bytes. */
  maxBytes: number;
  /** The whole exchange (connect, send, answer to its last byte) within this many ms. */
  deadlineMs: number;
  /** The request has been handed to the network (its answer may take a whole reconcile). */
  onSent?: () => void;
}

/** A call that did not produce a whole answer in time or within its size cap. */
export class AgentCallError extends Error {
  constructor(readonly kind: 'deadline' | 'too-large' | 'identity', message: string) {
    super(message);
    this.name = 'AgentCallError';
  }
}

export interface PushAnswer {
  httpStatus: number;
  generation?: number;
  /** false: the agent already held this generation and content (nothing to reconcile). */
  changed?: boolean;
  /** With wait: the status after the reconcile, when it matches the schema. */
  status?: AgentStatus;
  /** With wait: why the status that came back was dropped. */
  statusProblem?: string;
}

export const parseJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};

/** Null when `value` is a status of this protocol, else the first mismatch: `/steps: Expected array`. */
export function statusProblem(value: unknown): string | null {
  if (Value.Check(AgentStatusSchema, value)) return null;
  const e = Value.Errors(AgentStatusSchema, value).First();
  return `${e?.path || '/'}: ${e?.message ?? 'does not match the status schema'}`;
}

/** What a GET /v1/status answer says, from its code and text: pure, never throws. */
export function statusOutcome(httpStatus: number, text: string): PollOutcome {
  const parsed = parseJson(text);
  if (httpStatus === 200) {
    if (!parsed.ok) return { kind: 'invalid', message: 'status invalid: not JSON' };
    const why = statusProblem(parsed.value);
    return why ? { kind: 'invalid', message: `status invalid: ${why}` } : { kind: 'status', status: parsed.value as AgentStatus };
  }
  const b = parsed.ok && parsed.value && typeof parsed.value === 'object' ? (parsed.value as Record<string, unknown>) : {};
  return {
    kind: 'http',
    status: httpStatus,
    ...(typeof b.code === 'string' ? { code: b.code } : {}),
    ...(typeof b.message === 'string' ? { message: b.message } : {}),
  };
}

// Refusals an agent answers whose message already says what to do: passed on under their own code.
const REPLAY_CODES = new Set<string>(['NW_STALE', 'NW_GENERATION_CONFLICT', 'NW_EXPIRED', 'NW_TARGET']);

/**
 * The one mapping of an agent's refusal to a coded error. `details.agentCode` keeps the agent's
 * own code (the executor counts NW_SIGNATURE, NW_BUNDLE … as definite).
 */
export function refusalOf(a: { status: number; body: unknown }, who: string, auth: 'token' | 'certificate'): NwError {
  const b = a.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>) : {};
  const code = typeof b.code === 'string' && /^NW_[A-Z_]{1,40}$/.test(b.code) ? b.code : undefined;
  const message = agentText(typeof b.message === 'string' ? b.message : '');
  const details = { httpStatus: a.status, ...(code ? { agentCode: code } : {}) };
  if (a.status === 401) {
    return new NwError('NW_AUTH', auth === 'certificate' ? `${who} refused the client certificate: ${message || 'use one issued by the fleet CA'}` : `${who} refused the token: use the token file installed on the worker (/etc/nodewright/token)`, details);
  }
  if (code && REPLAY_CODES.has(code)) return new NwError(code as ErrorCode, `${who} refused the bundle: ${message}`, details);
  if (a.status === 403) return new NwError('NW_FORBIDDEN', `${who}: ${message || 'this certificate\'s role may not push'}`, details);
  return new NwError('NW_PUSH', `${who} refused the bundle (${a.status}): ${code ?? ''} ${message}`.replace(/\s+$/, ''), details);
}

export class AgentClient {
  /** `agent`: the controller's keep-alive mutual-TLS agent (agent-tls.ts); the CLI passes none. */
  constructor(private readonly o: { agent?: https.Agent } = {}) {}

  /** One bounded, deadlined request, its body parsed; rejects on transport failure, deadline or excess. */
  async call(target: AgentTarget, o: CallOptions): Promise<AgentAnswer> {
    const a = await this.exchange(target, o);
    const parsed = a.text ? parseJson(a.text) : { ok: true as const, value: {} };
    return { status: a.status, headers: a.headers, body: parsed.ok ? parsed.value : { message: a.text.slice(0, 200) } };
  }

  /** The request and its raw answer: the only place a socket is read. */
  private exchange(target: AgentTarget, o: CallOptions): Promise<RawAnswer> {
    const url = new URL(o.path, target.url);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const secure = url.protocol === 'https:';
    // an enrolled node is only ever reached over mutual TLS, its certificate pinned
    if (target.node && !secure) return Promise.reject(new AgentCallError('identity', `the enrolled node ${target.node.name} has a non-https address (${target.url}): re-enroll it`));
    const options: https.RequestOptions = {
      method: o.method,
      headers: {
        ...o.headers,
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      ...(secure && target.node ? { agent: this.o.agent, ...nodeTls(target.node) } : {}),
      ...(secure && target.tls ? { ca: target.tls.ca, cert: target.tls.cert, key: target.tls.key } : {}),
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: Error | null, v?: RawAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(v!);
      };
      const tooLarge = () => new AgentCallError('too-large', `the agent's answer is larger than ${o.maxBytes} bytes: aborted`);
      const req = (secure ? https : http).request(url, options, (res) => {
        if (secure && target.node) {
          const why = socketProblem(res.socket as TLSSocket, target.node);
          if (why) return settle(new AgentCallError('identity', why));
        }
        if (Number(res.headers['content-length']) > o.maxBytes) return settle(tooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes) settle(tooLarge());
          else chunks.push(c);
        });
        res.on('error', (e) => settle(e));
        res.on('close', () => settle(new Error('the agent closed the connection mid-answer')));
        res.on('end', () => {
          settle(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      timer = setTimeout(() => settle(new AgentCallError('deadline', `no complete answer within ${o.deadlineMs} ms`)), o.deadlineMs);
      req.on('error', (e) => settle(e));
      if (o.onSent) req.once('finish', o.onSent).once('close', o.onSent);
      req.end(payload);
    });
  }

  /** GET /v1/status of an enrolled node: an outcome, never a rejection. With `etag`, 304 → not-modified. */
  async status(target: AgentTarget, o: { etag?: string; deadlineMs: number }): Promise<{ outcome: PollOutcome | 'not-modified'; etag?: string }> {
    let text: string;
    let res: { status: number; etag?: string };
    try {
      const a = await this.exchange(target, { method: 'GET', path: '/v1/status', headers: o.etag ? { 'if-none-match': o.etag } : {}, maxBytes: STATUS_MAX_BYTES, deadlineMs: o.deadlineMs });
      text = a.text;
      res = { status: a.status, etag: typeof a.headers.etag === 'string' ? a.headers.etag : undefined };
    } catch (e) {
      return { outcome: { kind: 'error', message: e instanceof Error ? e.message : String(e) } };
    }
    if (res.status === 304) return { outcome: 'not-modified' };
    const outcome = statusOutcome(res.status, text);
    return { outcome, ...(outcome.kind === 'status' && res.etag ? { etag: res.etag } : {}) };
  }

  /**
   * POST /v1/desired. 2xx → the answer; a refusal → the coded error of refusalOf; transport
   * failures (unreachable, deadline, too large, identity) reject as they are: an outcome in doubt.
   */
  async push(target: AgentTarget, bundle: unknown, o: { deadlineMs: number; wait?: boolean; who?: string; onSent?: () => void }): Promise<PushAnswer> {
    const a = await this.call(target, {
      method: 'POST', path: '/v1/desired', body: bundle, ...(o.wait ? { query: { wait: '1' } } : {}),
      // with wait the answer carries the status of the reconcile
      maxBytes: o.wait ? STATUS_MAX_BYTES + PUSH_ANSWER_MAX_BYTES : PUSH_ANSWER_MAX_BYTES,
      deadlineMs: o.deadlineMs, onSent: o.onSent,
    });
    const who = o.who ?? `agent ${target.node?.name ?? target.url}`;
    if (a.status < 200 || a.status >= 300) throw refusalOf(a, who, target.token && !target.tls && !target.node ? 'token' : 'certificate');
    const b = a.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>) : {};
    const out: PushAnswer = { httpStatus: a.status };
    if (Number.isSafeInteger(b.generation)) out.generation = b.generation as number;
    if (typeof b.changed === 'boolean') out.changed = b.changed;
    if (b.status !== undefined) {
      const why = statusProblem(b.status);
      if (why) out.statusProblem = `status invalid: ${why}`;
      else out.status = b.status as AgentStatus;
    }
    return out;
  }
}
