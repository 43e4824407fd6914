// The default transport of openstack/http.ts: one request over node:http / node:https, shaped like
// the part of fetch() http.ts uses. Node's fetch is undici, which a short-lived CLI loads and
// initialises on its first call (~50 ms of CPU, as much as the rest of `hosts show`: bench P4).
// What fetch does that matters here is kept: redirects followed (at most 20, 303 and a POST's
// 301/302 become a GET without body), the abort signal, and errors as fetch throws them
// (TypeError('fetch failed') with the socket error as its cause), so messages stay the same.
import type http from 'node:http';

/** The part of fetch's Response that http.ts reads. */
export interface WireResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface WireInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function nodeFetch(url: string, init: WireInit): Promise<WireResponse> {
  let target = new URL(url);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  for (let hop = 0; ; hop++) {
    const res = await once(target, method, init.headers ?? {}, body, init.signal);
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || location === null) return res;
    if (hop >= MAX_REDIRECTS) throw Object.assign(new TypeError('fetch failed'), { cause: new Error('redirect count exceeded') });
    target = new URL(location, target);
    if (res.status === 303 ? method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
      method = 'GET';
      body = undefined;
    }
  }
}

function once(u: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined): Promise<WireResponse> {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: new Error(`unsupported protocol ${u.protocol}`) }));
  }
  const send = { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
  return new Promise<WireResponse>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    // node:https (and with it node:tls) loads only for an https endpoint
    const mod = process.getBuiltinModule(u.protocol === 'https:' ? 'node:https' : 'node:http') as typeof http;
    const req = mod.request(u, { method, headers: send, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(failed(e, signal)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
          text: async () => text,
        });
      });
    });
    req.on('error', (e) => reject(failed(e, signal)));
    req.end(body);
  });
}

const headerValue = (v: string | string[] | undefined): string | null => (v === undefined ? null : Array.isArray(v) ? v.join(', ') : v);

/** An aborted request rejects with the signal's reason (a TimeoutError for AbortSignal.timeout), as fetch does. */
function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
}

function failed(e: Error, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return abortError(signal);
  return Object.assign(new TypeError('fetch failed'), { cause: e });
}
