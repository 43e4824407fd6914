// An authenticated compute session: the compute endpoint, the token (kept in memory only),
// the negotiated microversion, and a counter of API calls put on the wire.
import { NwError } from '../host/errors.js';
import type { CloudConfig } from './config.js';
import { httpRequest, type FetchLike, type HttpOptions, type HttpResponse } from './http.js';
import { findEndpoint, keystonePasswordAuth, type CatalogService } from './keystone.js';
import { negotiateMicroversion, versionRangeFromDocument, type ServerVersionRange } from './microversion.js';

export interface SessionOptions {
  fetch?: FetchLike;
  retries?: number;
  backoffMs?: number;
  /** A version range remembered from an earlier run (skips the version document GET). */
  knownVersions?: ServerVersionRange;
}

export interface ComputeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the compute endpoint, e.g. "/os-hypervisors/detail". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Send this microversion instead of the negotiated one (lower only). */
  microversion?: string;
}

export class ComputeSession {
  apiCalls = 0;
  private constructor(
    readonly endpoint: string,
    private token: string,
    readonly microversion: string,
    readonly versions: ServerVersionRange,
    private readonly http: HttpOptions,
    private readonly reauth?: () => Promise<string>,
    /** The Keystone service catalog (password auth), for the other services' endpoints. */
    readonly catalog?: CatalogService[],
  ) {}

  static async open(cfg: CloudConfig, opts: SessionOptions = {}): Promise<ComputeSession> {
    let counter: ComputeSession | undefined;
    let early = 0;
    const http: HttpOptions = {
      fetch: opts.fetch,
      timeoutMs: cfg.timeoutMs,
      retries: opts.retries,
      backoffMs: opts.backoffMs,
      onRequest: () => {
        if (counter) counter.apiCalls++;
        else early++;
      },
    };
    let token: string;
    let endpoint: string;
    let reauth: (() => Promise<string>) | undefined;
    let catalog: CatalogService[] | undefined;
    if (cfg.auth.type === 'admin_token') {
      token = cfg.auth.token;
      endpoint = cfg.computeEndpointOverride ?? cfg.auth.endpoint;
    } else {
      const auth = cfg.auth;
      const kt = await keystonePasswordAuth(http, auth);
      token = kt.token;
      catalog = kt.catalog;
      endpoint = cfg.computeEndpointOverride ?? findEndpoint(kt.catalog, 'compute', cfg.interface, cfg.regionName);
      reauth = async () => (await keystonePasswordAuth(http, auth)).token;
    }
    endpoint = endpoint.replace(/\/+$/, '');
    const versions = opts.knownVersions ?? (await discoverVersions(http, endpoint, token));
    const mv = negotiateMicroversion(versions, cfg.computeApiVersion);
    counter = new ComputeSession(endpoint, token, mv, versions, http, reauth, catalog);
    counter.apiCalls = early;
    return counter;
  }

  async request(req: ComputeRequest): Promise<HttpResponse> {
    const url = buildUrl(this.endpoint, req.path, req.query);
    const send = () =>
      httpRequest(this.http, {
        method: req.method ?? 'GET',
        url,
        body: req.body,
        headers: microversionHeaders(req.microversion ?? this.microversion, this.token),
      });
    return this.withReauth(send);
  }

  /** An authenticated request to another service of the same cloud (e.g. Cinder), same token and counter. */
  requestUrl(req: { method?: ComputeRequest['method']; url: string; body?: unknown; headers?: Record<string, string> }): Promise<HttpResponse> {
    return this.withReauth(() =>
      httpRequest(this.http, { method: req.method ?? 'GET', url: req.url, body: req.body, headers: { ...req.headers, 'X-Auth-Token': this.token } }),
    );
  }

  private async withReauth(send: () => Promise<HttpResponse>): Promise<HttpResponse> {
    try {
      return await send();
    } catch (e) {
      // an expired Keystone token: authenticate again once
      if (e instanceof NwError && e.code === 'NW_OPENSTACK_AUTH' && this.reauth) {
        this.token = await this.reauth();
        return send();
      }
      throw e;
    }
  }
}

export function microversionHeaders(mv: string, token: string): Record<string, string> {
  return { 'X-Auth-Token': token, 'OpenStack-API-Version': `compute ${mv}`, 'X-OpenStack-Nova-API-Version': mv };
}

export function buildUrl(endpoint: string, p: string, query?: ComputeRequest['query']): string {
  const u = new URL(endpoint.replace(/\/+$/, '') + p);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

/** GET the endpoint's version document; fall back to the service root when the endpoint carries a project id. */
async function discoverVersions(http: HttpOptions, endpoint: string, token: string): Promise<ServerVersionRange> {
  const candidates = [`${endpoint}/`];
  const m = /^(.*\/v2(?:\.1)?)\/[^/]+$/.exec(endpoint);
  if (m) candidates.push(`${m[1]}/`);
  for (const url of candidates) {
    try {
      const res = await httpRequest(http, { method: 'GET', url, headers: { 'X-Auth-Token': token } });
      const range = versionRangeFromDocument(res.body);
      if (range) return range;
    } catch (e) {
      if (e instanceof NwError && (e.code === 'NW_OPENSTACK_AUTH' || (e.details as { connection?: boolean })?.connection)) throw e;
    }
  }
  throw new NwError('NW_MICROVERSION', `${endpoint} did not return a compute version document; is it the Nova endpoint (…/v2.1)?`);
}
