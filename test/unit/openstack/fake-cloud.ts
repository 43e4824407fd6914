// A fake fetch that answers from recorded real Nova responses (fixtures/ came from the lab).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FetchLike } from '../../../openstack/http.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
export const fixtureText = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

export interface Call {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
}

export type Handler = (c: Call) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

export function fakeFetch(handler: Handler): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const c: Call = { method: init.method ?? 'GET', url: new URL(url), headers, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    const r = handler(c) ?? { status: 404, body: { itemNotFound: { code: 404, message: `fake: no route ${c.url.pathname}` } } };
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: r.headers });
  };
  return { fetch, calls };
}

/** A Nova at http://nova.test/v2.1 with the lab's two hypervisors (cmp-a .11, cmp-b .12); only admin:admin may list. */
export function fakeNova(opts: { maxVersion?: string } = {}): Handler {
  const detail = fixture('hypervisors-detail.v2.53.json') as { hypervisors: Array<{ hypervisor_hostname: string }> };
  const servers = fixture('servers-detail-host-cmp-a.v2.53.json') as { servers: unknown[] };
  return (c) => {
    const p = c.url.pathname;
    if (p === '/v2.1/') {
      const root = fixture('v2.1-root.json') as { version: { version: string } };
      if (opts.maxVersion) root.version.version = opts.maxVersion;
      return { status: 200, body: root };
    }
    // noauth2: admin iff the user part of "user:project" is admin
    if (c.headers['x-auth-token'] !== 'admin:admin') return { status: 403, body: fixture('hypervisors-detail.nonadmin.json') };
    if (p === '/v2.1/os-hypervisors/detail') {
      const pattern = c.url.searchParams.get('hypervisor_hostname_pattern');
      if (pattern !== null) {
        if (c.url.searchParams.has('limit')) return { status: 400, body: { badRequest: { code: 400, message: 'pattern with limit' } } };
        const hits = detail.hypervisors.filter((h) => h.hypervisor_hostname.includes(pattern));
        return hits.length ? { status: 200, body: { hypervisors: hits } } : { status: 404, body: fixture('hypervisors-pattern-nomatch.v2.53.json') };
      }
      return { status: 200, body: detail };
    }
    if (p === '/v2.1/servers/detail') {
      const host = c.url.searchParams.get('host');
      return { status: 200, body: host === 'cmp-a' ? servers : { servers: [] } };
    }
    return undefined;
  };
}

export const adminTokenConfig = (over: Record<string, unknown> = {}) => ({
  source: 'test',
  auth: { type: 'admin_token' as const, endpoint: 'http://nova.test/v2.1', token: 'admin:admin' },
  interface: 'public' as const,
  timeoutMs: 2000,
  ...over,
});
