import { describe, expect, it } from 'vitest';
import { httpRequest } from '../../../openstack/http.js';
import { fakeFetch } from './fake-cloud.js';

const noSleep = async () => {};

describe('httpRequest', () => {
  it('retries an idempotent GET on 5xx with exponential backoff, then succeeds', async () => {
    let n = 0;
    const f = fakeFetch(() => (++n < 3 ? { status: 503, body: { computeFault: { message: 'busy' } } } : { status: 200, body: { ok: 1 } }));
    const waits: number[] = [];
    const r = await httpRequest({ fetch: f.fetch, timeoutMs: 1000, backoffMs: 100, sleep: async (ms) => void waits.push(ms) }, { method: 'GET', url: 'http://x/a' });
    expect(r.body).toEqual({ ok: 1 });
    expect(f.calls).toHaveLength(3);
    expect(waits).toEqual([100, 200]);
  });

  it('gives up after the retries with a coded error', async () => {
    const f = fakeFetch(() => ({ status: 500, body: { computeFault: { code: 500, message: 'boom' } } }));
    await expect(httpRequest({ fetch: f.fetch, timeoutMs: 1000, retries: 2, sleep: noSleep }, { method: 'GET', url: 'http://x/a' })).rejects.toMatchObject({
      code: 'NW_OPENSTACK',
      message: expect.stringMatching(/500: boom.*after 3 attempts/),
    });
    expect(f.calls).toHaveLength(3);
  });

  it('never retries a POST', async () => {
    const f = fakeFetch(() => ({ status: 500, body: {} }));
    await expect(httpRequest({ fetch: f.fetch, timeoutMs: 1000, sleep: noSleep }, { method: 'POST', url: 'http://x/s', body: {} })).rejects.toMatchObject({ code: 'NW_OPENSTACK' });
    expect(f.calls).toHaveLength(1);
  });

  it('does not retry 4xx, and maps 401/403/404/400 to codes', async () => {
    for (const [status, code] of [[401, 'NW_OPENSTACK_AUTH'], [403, 'NW_OPENSTACK_FORBIDDEN'], [404, 'NW_NOT_FOUND'], [400, 'NW_OPENSTACK']] as const) {
      const f = fakeFetch(() => ({ status, body: { x: { message: `m${status}` } } }));
      await expect(httpRequest({ fetch: f.fetch, timeoutMs: 1000, sleep: noSleep }, { method: 'GET', url: 'http://x/a' })).rejects.toMatchObject({ code, message: expect.stringContaining(`m${status}`) });
      expect(f.calls).toHaveLength(1);
    }
  });

  it('retries connection errors and says the API is unreachable', async () => {
    let n = 0;
    const fetch = async () => {
      n++;
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    };
    await expect(httpRequest({ fetch, timeoutMs: 1000, retries: 1, sleep: noSleep }, { method: 'GET', url: 'http://127.0.0.1:1/v2.1/' })).rejects.toMatchObject({
      code: 'NW_OPENSTACK',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(n).toBe(2);
  });

  it('times out each attempt with AbortSignal.timeout', async () => {
    const fetch = (_u: string, init: RequestInit) =>
      new Promise<Response>((_r, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    await expect(httpRequest({ fetch, timeoutMs: 30, retries: 0 }, { method: 'GET', url: 'http://x/slow' })).rejects.toMatchObject({
      code: 'NW_OPENSTACK',
      message: expect.stringContaining('timed out after 30 ms'),
    });
  });

  it('keeps the token out of error messages', async () => {
    const f = fakeFetch(() => ({ status: 403, body: { forbidden: { message: 'Policy does not allow' } } }));
    const err = await httpRequest({ fetch: f.fetch, timeoutMs: 1000 }, { method: 'GET', url: 'http://x/a', headers: { 'X-Auth-Token': 'SECRET-TOKEN' } }).catch((e) => e);
    expect(JSON.stringify(err)).not.toContain('SECRET-TOKEN');
    expect(String(err)).not.toContain('SECRET-TOKEN');
  });
});
