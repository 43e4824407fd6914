// One HTTP exchange with an OpenStack API: node:http(s) shaped like fetch (openstack/transport.ts),
// a timeout on every attempt, retries with exponential backoff for idempotent GETs on 5xx and
// connection errors only, and HTTP failures mapped to coded errors. Tokens travel in headers and are never logged.
import { NwError, type ErrorCode } from '../host/errors.js';
import { nodeFetch, type WireInit, type WireResponse } from './transport.js';

/** A transport: nodeFetch by default; tests hand in fakes (fetch itself fits too). */
export type FetchLike = (url: string, init: WireInit) => Promise<WireResponse>;

export interface HttpOptions {
  fetch?: FetchLike;
  timeoutMs: number;
  /** Extra attempts for GETs (default 3). */
  retries?: number;
  backoffMs?: number;
  /** Called once per attempt that goes on the wire (for counting API calls). */
  onRequest?: (method: string, url: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  headers: WireResponse['headers'];
  body: unknown;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function httpRequest(opts: HttpOptions, req: HttpRequest): Promise<HttpResponse> {
  const doFetch = opts.fetch ?? nodeFetch;
  const idempotent = req.method === 'GET';
  const attempts = 1 + (idempotent ? (opts.retries ?? 3) : 0);
  const backoff = opts.backoffMs ?? 200;
  const sleep = opts.sleep ?? sleepReal;
  const where = `${req.method} ${redactUrl(req.url)}`;
  let last: NwError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(backoff * 2 ** (attempt - 1));
    opts.onRequest?.(req.method, req.url);
    let res: WireResponse;
    try {
      res = await doFetch(req.url, {
        method: req.method,
        headers: {
          Accept: 'application/json',
          ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...req.headers,
        },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (e) {
      last = connectionError(e, where, opts.timeoutMs);
      continue;
    }
    const body = await readBody(res);
    if (res.ok) return { status: res.status, headers: res.headers, body };
    last = httpError(res.status, body, where);
    if (!(idempotent && res.status >= 500)) throw last;
  }
  throw new NwError(last!.code, `${last!.message} (after ${attempts} attempts)`, last!.details);
}

async function readBody(res: WireResponse): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function connectionError(e: unknown, where: string, timeoutMs: number): NwError {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return new NwError('NW_OPENSTACK', `${where} timed out after ${timeoutMs} ms; check that the API is up, or raise api_timeout`, { timeout: true });
  }
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return new NwError('NW_OPENSTACK', `${where} failed: cannot reach the API (${cause}); check the endpoint URL and that the service is running`, { connection: true });
}

/** The message OpenStack services put in error bodies: {"itemNotFound": {"message": …}} or {"error": {"message": …}}. */
export function faultMessage(body: unknown): string {
  if (body && typeof body === 'object') {
    for (const v of Object.values(body as Record<string, unknown>)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return (v as { message: string }).message;
      }
    }
  }
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

export function httpError(status: number, body: unknown, where: string): NwError {
  const msg = faultMessage(body);
  const details = { status, message: msg };
  const code: ErrorCode =
    status === 401 ? 'NW_OPENSTACK_AUTH' : status === 403 ? 'NW_OPENSTACK_FORBIDDEN' : status === 404 ? 'NW_NOT_FOUND' : 'NW_OPENSTACK';
  const hint =
    status === 401
      ? 'the token or credentials were rejected; check clouds.yaml / OS_* settings'
      : status === 403
        ? 'this needs an admin token (role admin); use admin credentials'
        : status === 406 && /version/i.test(msg)
          ? 'the requested microversion is not supported by this cloud'
          : status >= 500
            ? 'the service failed; see its logs'
            : 'the request was refused';
  return new NwError(status === 406 ? 'NW_MICROVERSION' : code, `${where} -> ${status}${msg ? `: ${msg}` : ''}; ${hint}`, details);
}

/** Query strings never carry secrets here, but keep messages short and free of credentials in userinfo. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
