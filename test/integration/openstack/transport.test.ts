// openstack/transport.ts against a real HTTP server on 127.0.0.1, side by side with Node's fetch:
// the two answer the same, so httpRequest's results and messages do not depend on which one ran.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest } from '../../../openstack/http.js';
import { nodeFetch, type WireInit, type WireResponse } from '../../../openstack/transport.js';

interface Seen {
  method: string;
  url: string;
  body: string;
  token?: string;
  /** undici's fetch marks its requests with sec-fetch-mode; node:http does not */
  fetchMode?: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      seen.push({ method: req.method ?? '', url, body: Buffer.concat(chunks).toString(), token: req.headers['x-auth-token'] as string | undefined, fetchMode: req.headers['sec-fetch-mode'] as string | undefined });
      const redirect = /^\/redirect\/(\d+)$/.exec(url);
      if (redirect) return void res.writeHead(Number(redirect[1]), { Location: '/landed' }).end();
      if (url === '/loop') return void res.writeHead(302, { Location: '/loop' }).end();
      if (url === '/slow') return void setTimeout(() => res.end('late'), 1000);
      if (url === '/reset') return void req.socket.destroy();
      if (url === '/missing') return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"itemNotFound":{"code":404,"message":"no such thing"}}');
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Subject-Token': 'tok-123', 'Set-Cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, url, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const viaFetch = (url: string, init: WireInit): Promise<WireResponse> => fetch(url, init);
const shape = async (r: WireResponse) => ({ status: r.status, ok: r.ok, text: await r.text(), token: r.headers.get('x-subject-token'), type: r.headers.get('Content-Type'), none: r.headers.get('x-none') });

describe('nodeFetch, the OpenStack transport', () => {
  it('answers a GET and a POST as fetch does: status, ok, body, headers by any case', async () => {
    for (const init of [{ method: 'GET', headers: { 'X-Auth-Token': 't' } }, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":"é"}' }]) {
      const mine = await shape(await nodeFetch(`${base}/thing?x=1`, init));
      expect(mine).toEqual(await shape(await viaFetch(`${base}/thing?x=1`, init)));
      expect(mine).toMatchObject({ status: 200, ok: true, token: 'tok-123', type: 'application/json', none: null });
    }
    expect(seen.filter((s) => s.method === 'POST').map((s) => s.body)).toEqual(['{"a":"é"}', '{"a":"é"}']);
  });

  it('answers an error status without throwing, as fetch does', async () => {
    const mine = await shape(await nodeFetch(`${base}/missing`, { method: 'GET' }));
    expect(mine).toEqual(await shape(await viaFetch(`${base}/missing`, { method: 'GET' })));
    expect(mine).toMatchObject({ status: 404, ok: false });
  });

  it('follows redirects as fetch does: 303 and a POST\'s 301/302 become a GET without body, 307/308 keep both', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      for (const method of ['GET', 'POST']) {
        const init = { method, headers: { 'X-Auth-Token': 'tok' }, ...(method === 'POST' ? { body: 'payload' } : {}) };
        seen.length = 0;
        const mine = await shape(await nodeFetch(`${base}/redirect/${status}`, init));
        const mineSeen = seen.splice(0);
        const theirs = await shape(await viaFetch(`${base}/redirect/${status}`, init));
        expect(mine, `${method} ${status}`).toEqual(theirs);
        expect(mineSeen.map((s) => [s.method, s.url, s.body, s.token]), `${method} ${status}`).toEqual(seen.map((s) => [s.method, s.url, s.body, s.token]));
      }
    }
  });

  it('gives up on a redirect loop after 20 hops with fetch\'s error', async () => {
    await expect(nodeFetch(`${base}/loop`, { method: 'GET' })).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });

  it('through httpRequest: a refused connection gives the same coded message as with fetch; a reset names the socket error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/v2.1/`;
    await new Promise<void>((r) => closed.close(() => r()));
    const run = (transport: typeof nodeFetch, url: string) => httpRequest({ fetch: transport, timeoutMs: 2000, retries: 0 }, { method: 'GET', url }).catch((e: unknown) => e as { code: string; message: string });
    const refused = await run(nodeFetch, dead);
    expect(refused).toMatchObject({ code: 'NW_OPENSTACK', message: expect.stringContaining('cannot reach the API (ECONNREFUSED)') });
    expect(refused.message).toBe((await run(viaFetch, dead)).message);
    // undici calls a reset UND_ERR_SOCKET; node:http gives the socket's own code
    const reset = await run(nodeFetch, `${base}/reset`);
    expect(reset.message).toBe((await run(viaFetch, `${base}/reset`)).message.replace('UND_ERR_SOCKET', 'ECONNRESET'));
  });

  it('through httpRequest: a timeout is the same coded timeout as with fetch', async () => {
    const run = (transport: typeof nodeFetch) => httpRequest({ fetch: transport, timeoutMs: 100, retries: 0 }, { method: 'GET', url: `${base}/slow` }).catch((e: unknown) => e);
    const mine = (await run(nodeFetch)) as { code: string; message: string; details: unknown };
    expect(mine).toMatchObject({ code: 'NW_OPENSTACK', message: expect.stringContaining('timed out after 100 ms'), details: { timeout: true } });
    expect(mine.message).toBe(((await run(viaFetch)) as { message: string }).message);
  });

  it('is what httpRequest uses when no transport is given', async () => {
    const r = await httpRequest({ timeoutMs: 2000 }, { method: 'GET', url: `${base}/default`, headers: { 'X-Auth-Token': 'x' } });
    expect(r).toMatchObject({ status: 200, body: { method: 'GET', url: '/default' } });
    expect(r.headers.get('X-Subject-Token')).toBe('tok-123');
    expect(seen.at(-1)).toMatchObject({ url: '/default', fetchMode: undefined });
    await viaFetch(`${base}/default`, { method: 'GET' });
    expect(seen.at(-1)).toMatchObject({ url: '/default', fetchMode: 'cors' });
  });
});
