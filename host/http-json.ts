// One HTTP(S) request on a fresh connection, its answer read whole: the status, the text, and the
// JSON when the text is JSON (null otherwise). Callers decide what a status or an error means.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { redirectTarget } from './redirect.js';

export interface JsonAnswer {
  status: number;
  /** The response headers (lower-case names). */
  headers: IncomingHttpHeaders;
  json: any;
  text: string;
}

export interface JsonRequest {
  method?: string;
  /** Sent as is; a JSON body sets content-type application/json. */
  body?: string;
  headers?: Record<string, string>;
  /** Bearer token for the Authorization header. */
  token?: string;
  timeoutMs: number;
  /** TLS: the CA to verify the server against, and a client certificate. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Replaces the host-name check of the server's certificate (e.g. one that also requires a role). */
  checkServerIdentity?: (host: string, cert: import('node:tls').PeerCertificate) => Error | undefined;
}

export function readJson(res: IncomingMessage): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('error', reject);
    res.on('end', () => {
      let json: any = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {}
      resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
    });
  });
}

export function requestJson(url: string | URL, o: JsonRequest): Promise<JsonAnswer> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const method = o.method ?? 'GET';
  const headers: Record<string, string> = {
    ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}),
    ...(o.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(o.body)) } : {}),
    ...o.headers,
  };
  const tls = u.protocol === 'https:' ? { ca: o.ca, cert: o.cert, key: o.key, ...(o.checkServerIdentity ? { checkServerIdentity: o.checkServerIdentity } : {}) } : {};
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(u, { method, agent: false, timeout: o.timeoutMs, headers, ...tls }, (res) => readJson(res).then(resolve, reject));
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${u.pathname} got no answer within ${o.timeoutMs} ms`)));
    req.end(o.body);
  });
}

/**
 * requestJson that follows a 307/308 (host/redirect.ts) with the same method, body and TLS options,
 * so the target must pass the same CA and identity check. The answer is the last one.
 */
export async function requestJsonFollowing(url: string | URL, o: JsonRequest): Promise<JsonAnswer & { url: URL }> {
  let at = typeof url === 'string' ? new URL(url) : url;
  for (let hops = 0; ; hops++) {
    const r = await requestJson(at, o);
    const next = redirectTarget(at, r.status, r.headers.location, hops);
    if (!next) return { ...r, url: at };
    at = next;
  }
}
