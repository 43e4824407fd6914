// The dashboard's pages through the real controller daemon (`nodewright controller run`) with
// honest simulated agents (bench/sim-honest.ts), over plain HTTPS with an operator client
// certificate (which signs a browser in: the session cookie it gets is sent from then on): every page answers with the contract's markers and the
// CSP; the signed-out get the "Sign in" page; an agent's markup and script render as text; the
// rollout's live stream sends a new #rollout-live fragment when the rollout moves (an action from
// the page, CSRF-checked) and the fleet's stream sends only the changed tile. A 300-node rollout in
// a real SQLite store, served by the real routes and sign-in module (in process): the page shows the
// counts per phase and only the capped rows that need an operator; every node is on the paged list.
import Fastify, { type FastifyInstance } from 'fastify';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import type { HonestAgent } from '../../../bench/sim-honest.js';
import type { ApiContext } from '../../../controller/api/context.js';
import { FleetView } from '../../../controller/fleet/view.js';
import { newRollout } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import { Changes } from '../../../controller/ui/changes.js';
import { uiRoutes } from '../../../controller/ui/routes.js';
import { sha256Hex } from '../../../controller/ui/secrets.js';
import { tempDir } from '../../tmp.js';
import { startSimFleet, type SimFleet } from './sim-fleet.js';

const NODES = ['w1', 'w2', 'w3'];
const HOSTILE = '<script>alert(1)</script><b>x</b>';
const CSP = "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';frame-ancestors 'none';base-uri 'none';form-action 'self'";

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** The agent reports its unit step failed with `message` (not converged, not ready); null: honest again. */
const failWith = (agent: HonestAgent, message: string | null) => {
  agent.override = message === null ? null : (s) => ({
    ...s, converged: false, ready: false,
    steps: s.steps.map((x) => (x.name === 'unit' ? { ...x, state: 'failed' as const, message, error: { code: 'NW_SYSTEMD', message } } : x)),
  });
};

describe('dashboard pages through the real controller', () => {
  let fleet: SimFleet;
  /** The session the operator certificate made (nw_session=…), sent with every signed-in request. */
  let cookie = '';
  const ctl = (f: string) => readFileSync(path.join(fleet.dir, 'ctl', f), 'utf8');
  const tls = (signedIn: boolean) => ({ ca: ctl('ca.crt'), ...(signedIn ? { cert: ctl('operator.crt'), key: ctl('operator.key') } : {}) });

  function request(method: string, route: string, o: { signedIn?: boolean; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const signedIn = o.signedIn ?? true;
      const headers = { ...(signedIn && cookie ? { cookie } : {}), ...o.headers };
      const req = https.request({ host: '127.0.0.1', port: fleet.port, path: route, method, ...tls(signedIn), headers, timeout: 10_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  }
  const get = (route: string, signedIn = true) => request('GET', route, { signedIn });

  /** An open SSE stream: messages as they arrive; close() ends it. */
  function stream(route: string, headers: Record<string, string> = {}) {
    const messages: { id?: string; event?: string; data?: string; at: number }[] = [];
    let buf = '';
    const req = https.request({ host: '127.0.0.1', port: fleet.port, path: route, method: 'GET', ...tls(true), headers: { accept: 'text/event-stream', cookie, ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m: { id?: string; event?: string; data?: string; at: number } = { at: Date.now() };
          for (const line of block.split('\n')) {
            const [k, ...rest] = line.split(': ');
            const v = rest.join(': ');
            if (k === 'id') m.id = v;
            else if (k === 'event') m.event = v;
            else if (k === 'data') m.data = m.data === undefined ? v : `${m.data}\n${v}`;
          }
          if (m.id || m.data !== undefined) messages.push(m);
        }
      });
    });
    req.on('error', () => {});
    req.end();
    return { messages, close: () => req.destroy() };
  }

  const csrfOf = (pageText: string) => /<meta name="csrf-token" content="([^"]+)">/.exec(pageText)![1];
  const phaseIn = (text: string) => /data-testid="rollout-phase">([a-z_]+)</.exec(text)?.[1];

  function startRollout(tag: string, strategy: object, target = ['--group', 'lab']): string {
    const desired = path.join(fleet.dir, `desired-${tag}.yaml`);
    writeFileSync(desired, stringify(rolloutDesired(tag)));
    const file = path.join(fleet.dir, `strategy-${tag}.yaml`);
    writeFileSync(file, stringify(strategy));
    const r = fleet.nodewright('rollout', 'start', ...target, '--desired', desired, '--strategy', file, '--json');
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout).id as string;
  }
  const rolloutState = async (id: string) => ((await fleet.api('GET', `/v1/rollouts/${id}`)).json as { state: string }).state;

  beforeAll(async () => {
    fleet = await startSimFleet({ nodes: NODES });
    const first = await request('GET', '/ui/');
    cookie = String(first.headers['set-cookie']).split(';')[0];
    expect(cookie).toMatch(/^nw_session=/);
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it('signed out: every page is the 401 "Sign in" page naming `nodewright ui`; static files are served to anyone, versioned', async () => {
    for (const route of ['/ui/', '/ui/nodes/w1', '/ui/rollouts', '/ui/events', '/ui/live/fleet', '/ui/nowhere']) {
      const r = await get(route, false);
      expect(r.status, route).toBe(401);
      expect(r.text).toContain('<h1>Sign in</h1>');
      expect(r.text).toContain('nodewright ui');
      expect(r.headers['content-security-policy']).toBe(CSP);
    }
    const js = await get('/ui/static/htmx.min.js', false);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.headers.etag).toBeTruthy();
    const page = await get('/ui/');
    const css = /href="(\/ui\/static\/ui\.css\?v=[0-9a-f]+)"/.exec(page.text)![1];
    expect((await get(css, false)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // the API's own answers carry no dashboard headers
    expect((await get('/healthz', false)).headers['content-security-policy']).toBeUndefined();
  });

  it('fleet and events pages: nav, whoami, csrf meta + hx-headers, summary, one section per domain, one tile per node; CSP exactly', async () => {
    const r = await get('/ui/');
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toBe(CSP);
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    const t = r.text;
    expect(t).toContain('<a href="/ui/">Fleet</a><a href="/ui/rollouts">Rollouts</a><a href="/ui/events">Events</a>');
    expect(t).toMatch(/data-testid="whoami">operator:[^<(]+</);
    expect(t).toMatch(/<body hx-headers="\{&quot;x-csrf-token&quot;:&quot;[A-Za-z0-9_-]+&quot;\}"/);
    expect(t).toContain('<meta name="htmx-config" content=\'{"includeIndicatorCSS":false}\'>');
    expect(t).toMatch(/data-testid="fleet-summary" data-worst="healthy"><strong class="count">3\/3 ready</);
    expect(t).toContain('<section class="domain" data-domain="unmapped"><h2 data-worst="healthy">unmapped <span class="count">3/3 ready</span>');
    for (const n of NODES) expect(t).toContain(`<a class="tile" data-node="${n}" data-state="healthy" href="/ui/nodes/${n}" title="${n}: healthy`);
    expect(t).not.toMatch(/<script>|<style|style="|\son[a-z]+=/); // no inline script, style or handlers
    expect((await get('/ui/?state=degraded')).text).toContain('No node matches.');
    const named = (await get('/ui/?name=W2')).text;
    expect(named.match(/<a class="tile" data-node="/g)).toHaveLength(1);
    expect(named).toContain('data-node="w2"');
    expect(named).toContain('<input name="name" value="W2"');
    expect(named).toMatch(/hx-sse:connect="\/ui\/live\/fleet\?name=W2&amp;since=/);
    const ev = await get('/ui/events?subject=w1');
    expect(ev.status).toBe(200);
    expect(ev.text).toMatch(/<tr data-event="\d+"><td>[^<]+<\/td><td>[^<]+<\/td><td>node\.[a-z.]+<\/td><td>w1<\/td>/);
  });

  it('a rollout: list and detail with the markers; its live stream sends a new fragment when a Pause from the page moves it; no CSRF token → 403, nothing changes', async () => {
    const id = startRollout('ui', { steps: '1', minHealthy: '4s' });
    await fleet.waitFor('the canary gating', async () => (await get(`/ui/rollouts/${id}`)).text.includes('<td class="phase">gating</td>'));
    const list = await get('/ui/rollouts');
    expect(list.text).toContain(`<tr data-rollout="${id}"><td><input type="checkbox" name="ids" value="${id}" aria-label="select ${id}"></td><td><a href="/ui/rollouts/${id}">${id}</a></td>`);
    const page = await get(`/ui/rollouts/${id}`);
    expect(page.status).toBe(200);
    const t = page.text;
    expect(phaseIn(t)).toBe('running');
    expect(t).toContain('<div class="wave" data-wave="0" data-state="active"');
    expect(t).toContain('<div class="wave" data-wave="1" data-state="pending"');
    expect(t).toMatch(/<ul data-testid="waits-for"><li>w\d: (waits for target generation|healthy for)/);
    expect(t).toMatch(/data-testid="time-left">\d+ s</);
    expect(t).toContain('data-testid="budget">0 used of 0 allowed<');
    expect(t).toContain('data-testid="strategy"');
    expect(t).toMatch(new RegExp(`hx-sse:connect="/ui/live/rollouts/${id}\\?since=[0-9a-f]+-\\d+"`));
    for (const b of ['Pause', 'Abort', 'Rollback']) expect(t).toMatch(new RegExp(`hx-post="/ui/rollouts/${id}/${b.toLowerCase()}" hx-confirm="[^"]+" hx-target="#rollout-live" hx-swap="innerHTML">${b}</button>`));
    expect(t).not.toContain('>Resume</button>');
    expect((await get('/ui/rollouts/r-nope')).status).toBe(404);

    const live = stream(`/ui/live/rollouts/${id}`);
    await fleet.waitFor('the first fragment', () => live.messages.some((m) => m.data !== undefined));
    const noToken = await request('POST', `/ui/rollouts/${id}/pause`, { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `https://127.0.0.1:${fleet.port}` }, body: '' });
    expect(noToken.status).toBe(403);
    expect(noToken.headers['hx-retarget']).toBe('#action-error');
    expect(noToken.text).toMatch(/^<strong>NW_CSRF<\/strong>: /);
    // whatever the body's type (a script's fetch with a string body sends text/plain), no token → 403
    for (const type of ['text/plain;charset=UTF-8', 'multipart/form-data; boundary=x', 'application/json', undefined]) {
      const headers: Record<string, string> = { origin: `https://127.0.0.1:${fleet.port}`, ...(type ? { 'content-type': type } : {}) };
      const r = await request('POST', `/ui/rollouts/${id}/pause`, { headers, body: type === 'application/json' ? '{}' : 'x' });
      expect(r.status, `${type}: ${r.text}`).toBe(403);
      expect(r.text, String(type)).toMatch(/^<strong>NW_CSRF<\/strong>: /);
    }
    expect(await rolloutState(id)).toBe('running');

    const before = live.messages.length;
    const t0 = Date.now();
    const paused = await request('POST', `/ui/rollouts/${id}/pause`, { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrfOf(t), origin: `https://127.0.0.1:${fleet.port}` }, body: '' });
    expect(paused.headers['set-cookie']).toBeUndefined(); // the same session, not a new one
    expect(paused.status).toBe(200);
    expect(phaseIn(paused.text)).toBe('paused');
    expect(paused.text).toContain('>Resume</button>');
    await fleet.waitFor('a paused fragment on the stream', () => live.messages.slice(before).some((m) => phaseIn(m.data ?? '') === 'paused'), 5000);
    const ms = live.messages.slice(before).find((m) => phaseIn(m.data ?? '') === 'paused')!.at - t0;
    expect(ms).toBeLessThanOrEqual(1000);
    process.stderr.write(`ui-pages: a rollout transition reached its stream in ${ms} ms\n`);
    expect(await rolloutState(id)).toBe('paused');
    const audit = await get(`/ui/events?subject=${id}&kind=rollout.`);
    expect(audit.text).toMatch(/<td>operator:[^<]+<\/td><td>rollout\.paused<\/td>/);
    live.close();

    const resumed = await request('POST', `/ui/rollouts/${id}/resume`, { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrfOf(t), origin: `https://127.0.0.1:${fleet.port}` }, body: '' });
    expect(phaseIn(resumed.text)).toBe('running');
    await fleet.waitFor(`rollout ${id} completed`, async () => (await rolloutState(id)) === 'completed', 60_000);
  }, 120_000);

  it('a viewer sees the buttons, and pressing one is refused: 403 NW_FORBIDDEN into the alert region, the rollout unchanged', async () => {
    const id = startRollout('viewer', { steps: '1', minHealthy: '30s' });
    const link = JSON.parse(fleet.nodewright('ui', '--read-only', '--json').stdout) as { url: string };
    const signIn = await request('GET', new URL(link.url).pathname + new URL(link.url).search, { signedIn: false });
    expect(signIn.status).toBe(303);
    const viewer = String(([] as string[]).concat(signIn.headers['set-cookie'] ?? [])[0]).split(';')[0];
    const t = (await request('GET', `/ui/rollouts/${id}`, { signedIn: false, headers: { cookie: viewer } })).text;
    expect(t).toContain('(read-only)</span>');
    expect(t).toContain('>Pause</button>');
    const r = await request('POST', `/ui/rollouts/${id}/pause`, { signedIn: false, headers: { cookie: viewer, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrfOf(t), origin: `https://127.0.0.1:${fleet.port}` }, body: '' });
    expect(r.status).toBe(403);
    expect(r.headers['hx-retarget']).toBe('#action-error');
    expect(r.text).toMatch(/^<strong>NW_FORBIDDEN<\/strong>: .*read-only/);
    expect(await rolloutState(id)).not.toBe('paused');
    expect(fleet.nodewright('rollout', 'abort', id).status).toBe(0);
  });

  it('node page: steps, probes, kubelet, generations, cert days, events; an agent\'s markup and script render as text; unknown node → 404', async () => {
    // the open page's live region follows the agent: a fragment with the new state and message
    const before = (await get('/ui/nodes/w2')).text;
    expect(before).toContain('data-testid="node-state" data-state="healthy"');
    const url = /<div id="node-live" hx-sse:connect="([^"]+)">/.exec(before)![1].replace(/&amp;/g, '&');
    expect(url).toMatch(/^\/ui\/live\/nodes\/w2\?since=[0-9a-f]+-\d+$/);
    const live = stream(url);
    failWith(fleet.agents.get('w2')!, HOSTILE);
    const degraded = () => live.messages.find((m) => m.data?.includes('data-testid="node-state" data-state="degraded"'));
    await fleet.waitFor('a degraded fragment on the node\'s stream', () => degraded() !== undefined, 10_000);
    live.close();
    const fragment = degraded()!;
    expect(fragment.data).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(fragment.data).not.toContain('<h1>');
    const t = (await get('/ui/nodes/w2')).text;
    expect(t).toContain('<h1>w2</h1>');
    expect(t).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;');
    expect(t).not.toContain(HOSTILE);
    expect(t).not.toContain('<b>x</b>');
    expect(t).toMatch(/<tr data-step="unit"><td>unit<\/td><td>failed<\/td>/);
    expect(t).toMatch(/<tr data-probe="rbd"><td>rbd<\/td><td>pass<\/td><td class="num">912\.0 ms/);
    expect(t).toContain('data-testid="kubelet-version">1.10.13-ceph1<');
    expect(t).toMatch(/data-testid="cert-days">\d+ days left</);
    expect(t).toMatch(/<table id="generations">[\s\S]*<tr data-generation="\d+">/);
    expect(t).toMatch(/<table id="node-events">[\s\S]*<tr data-event="\d+">/);
    const fleetPage = (await get('/ui/')).text;
    expect(fleetPage).toContain('title="w2: degraded (unit failed (NW_SYSTEMD))"');
    expect((await get('/ui/nodes/nope')).status).toBe(404);
    expect((await get('/ui/nodes/nope')).text).toContain('No node nope is enrolled.');
  });

  it('fleet live: a tile that changes is sent alone as a `fleet` event, within a second of the agent changing', async () => {
    failWith(fleet.agents.get('w2')!, null);
    await fleet.waitFor('w2 healthy again', async () => (await get('/ui/')).text.includes('data-node="w2" data-state="healthy"'));
    const page = (await get('/ui/')).text;
    const url = /hx-sse:connect="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&');
    const live = stream(url);
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    failWith(fleet.agents.get('w3')!, 'unit broke');
    await fleet.waitFor('a fleet event for w3', () => live.messages.some((m) => m.event === 'fleet' && m.data!.includes('"w3"')), 5000);
    const m = live.messages.find((x) => x.event === 'fleet' && x.data!.includes('"w3"'))!;
    const delta = JSON.parse(m.data!) as { tiles: { name: string; state: string }[]; headers: { domain: string; worst: string }[] };
    expect(delta.tiles).toEqual([{ name: 'w3', domain: 'unmapped', state: 'degraded', title: 'w3: degraded (unit failed (NW_SYSTEMD))' }]);
    expect(delta.headers).toEqual([{ domain: 'unmapped', ready: 2, total: 3, worst: 'degraded' }]);
    expect(m.id).toMatch(/^[0-9a-f]+-\d+$/);
    process.stderr.write(`ui-pages: an agent's change reached the fleet stream in ${m.at - t0} ms (poll interval 200 ms)\n`);
    expect(m.at - t0).toBeLessThanOrEqual(1000);
    live.close();
    // a reconnect from another boot gets the whole fleet first
    const again = stream(url.replace(/since=[^&]+/, 'since=00000000-1'));
    await fleet.waitFor('a snapshot', () => again.messages.some((x) => x.event === 'fleet'), 5000);
    expect((JSON.parse(again.messages.find((x) => x.event === 'fleet')!.data!) as { tiles: unknown[] }).tiles).toHaveLength(3);
    again.close();
    failWith(fleet.agents.get('w3')!, null);
  });

  it('bulk: Pause all running pauses both running (or waiting) rollouts as operator:NAME; without CSRF or as a viewer 403 and nothing changes; a refusal does not stop the others', async () => {
    const a = startRollout('bulk-a', { steps: '1', minHealthy: '60s' }, ['--nodes', 'w1']);
    const b = startRollout('bulk-b', { steps: '1', minHealthy: '60s' }, ['--nodes', 'w2']);
    // one domain (unmapped) at a time: the second waits for the first's node; pause applies to both
    const both = async () => [await rolloutState(a), await rolloutState(b)].map((x) => (x === 'waiting' ? 'running' : x));
    expect(await both()).toEqual(['running', 'running']);
    const t = (await get('/ui/rollouts')).text;
    for (const id of [a, b]) expect(t).toContain(`<tr data-rollout="${id}"><td><input type="checkbox" name="ids" value="${id}"`);
    expect(t).toMatch(/hx-post="\/ui\/rollouts\/bulk\/pause" hx-vals='\{"all":"1"\}' hx-confirm="Pause all 2 rollouts running in the fleet\?[^"]*"[^>]*>Pause all running<\/button>/);
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: `https://127.0.0.1:${fleet.port}` };

    const noToken = await request('POST', '/ui/rollouts/bulk/pause', { headers: form, body: 'all=1' });
    expect(noToken.status).toBe(403);
    expect(noToken.headers['hx-retarget']).toBe('#action-error');
    expect(noToken.text).toMatch(/^<strong>NW_CSRF<\/strong>: /);
    const link = JSON.parse(fleet.nodewright('ui', '--read-only', '--json').stdout) as { url: string };
    const signIn = await request('GET', new URL(link.url).pathname + new URL(link.url).search, { signedIn: false });
    const viewer = String(([] as string[]).concat(signIn.headers['set-cookie'] ?? [])[0]).split(';')[0];
    const vt = (await request('GET', '/ui/rollouts', { signedIn: false, headers: { cookie: viewer } })).text;
    const asViewer = await request('POST', '/ui/rollouts/bulk/pause', { signedIn: false, headers: { ...form, cookie: viewer, 'x-csrf-token': csrfOf(vt) }, body: 'all=1' });
    expect(asViewer.status).toBe(403);
    expect(asViewer.text).toMatch(/^<strong>NW_FORBIDDEN<\/strong>: .*read-only/);
    expect(await both()).toEqual(['running', 'running']);

    const withToken = { ...form, 'x-csrf-token': csrfOf(t) };
    const paused = await request('POST', '/ui/rollouts/bulk/pause', { headers: withToken, body: 'all=1' });
    expect(paused.status).toBe(200);
    expect(paused.text).toContain('<strong>pause</strong>: 2 done, 0 refused');
    for (const id of [a, b]) expect(paused.text).toContain(`<li data-bulk-id="${id}" data-outcome="done">`);
    expect(paused.text).toContain(`<tr data-rollout="${a}">`); // the rows come back with the answer
    expect(paused.text).not.toContain('>Pause all running</button>'); // nothing is left running
    expect(await both()).toEqual(['paused', 'paused']);
    for (const id of [a, b]) expect((await get(`/ui/events?subject=${id}&kind=rollout.`)).text).toMatch(/<td>operator:[^<]+<\/td><td>rollout\.paused<\/td>/);

    // resume the selected: one unknown id is refused with its code, the other resumes
    const resumed = await request('POST', '/ui/rollouts/bulk/resume', { headers: withToken, body: `ids=r-nope&ids=${a}` });
    expect(resumed.status).toBe(200);
    expect(resumed.text).toContain('<li data-bulk-id="r-nope" data-outcome="refused"><a href="/ui/rollouts/r-nope">r-nope</a>: refused — <strong>NW_NOT_FOUND</strong>: no rollout r-nope</li>');
    expect(resumed.text).toContain(`<li data-bulk-id="${a}" data-outcome="done">`);
    expect(await both()).toEqual(['running', 'paused']);
    const none = await request('POST', '/ui/rollouts/bulk/abort', { headers: withToken, body: '' });
    expect(none.status).toBe(400);
    expect(none.text).toMatch(/^<strong>NW_USAGE<\/strong>: no rollout selected/);
    const aborted = await request('POST', '/ui/rollouts/bulk/abort', { headers: withToken, body: `ids=${a}&ids=${b}` });
    expect(aborted.text).toContain('<strong>abort</strong>: 2 done, 0 refused');
    expect(await both()).toEqual(['aborted', 'aborted']);
  });

  it('the controller stops within 2 s with dashboard streams open; the streams end', async () => {
    const page = (await get('/ui/')).text;
    const fleetLive = stream(/hx-sse:connect="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&'));
    const rollouts = (await get('/ui/rollouts')).text;
    const id = /data-rollout="([^"]+)"/.exec(rollouts)![1];
    const rolloutLive = stream(`/ui/live/rollouts/${id}`);
    await fleet.waitFor('the rollout stream\'s first fragment', () => rolloutLive.messages.length > 0, 5000);
    const t0 = Date.now();
    await fleet.stop();
    const ms = Date.now() - t0;
    process.stderr.write(`ui-pages: stopped in ${ms} ms with two dashboard streams open\n`);
    expect(ms).toBeLessThan(2000);
    fleetLive.close();
    rolloutLive.close();
  });
});

describe('a 300-node rollout page (real SQLite store and routes, in process)', () => {
  const T0 = '2026-12-07T10:00:00.000Z';
  const COOKIE = 'nw_session=' + 'k'.repeat(43);
  let store: SqliteStore;
  let app: FastifyInstance;
  const get = async (url: string) => {
    const r = await app.inject({ method: 'GET', url, headers: { cookie: COOKIE } });
    return { status: r.statusCode, text: r.body };
  };
  const rowNames = (t: string) => [...t.matchAll(/<tr data-node="([^"]+)"><td>.*?<td class="phase">([a-z_]+)<\/td>/g)].map((m) => `${m[1]} ${m[2]}`);
  const nextOf = (t: string, rel: 'next' | 'prev') => new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(t)?.[1].replace(/&amp;/g, '&');

  beforeAll(async () => {
    store = openSqliteStore({ stateDir: tempDir('nw-ui-scale-') });
    const names = Array.from({ length: 300 }, (_, i) => ({ name: `n${String(i).padStart(3, '0')}`, baseGeneration: 1, previousGeneration: 1, canRollBack: true }));
    // waves of 5 after a canary (61 waves): 30 done (146 nodes, 2 of them failed), 120 gating, 34 pending
    const s = newRollout({ id: 'r-300', target: 'group big', nodes: names, strategy: parseStrategy({ steps: '1,5', maxUnavailable: 150, failureBudget: 5, gateTimeout: '60s' }), now: T0 });
    for (const n of s.nodes) if (n.wave < 30) Object.assign(n, { phase: 'healthy', targetGeneration: 2 });
    for (const name of ['n010', 'n100']) Object.assign(s.nodes.find((n) => n.name === name)!, { phase: 'failed', reason: 'gate deadline passed' });
    for (const n of s.nodes.filter((x) => x.phase === 'pending').slice(0, 120)) Object.assign(n, { phase: 'gating', targetGeneration: 2, gateStartedAt: T0, deadline: '2026-12-07T10:01:00.000Z' });
    await store.createRollout({ id: s.id, state: { ...s, wave: 30, failures: 2 }, createdAt: T0, updatedAt: T0 }, []);
    await store.addUiSession({ idHash: sha256Hex(COOKIE.split('=')[1]), actor: 'operator:alice', readOnly: true, csrf: 'c'.repeat(43), createdAt: T0, expiresAt: '2099-01-01T00:00:00.000Z' });
    app = Fastify({ logger: false });
    const ctx = { store, now: () => new Date(Date.parse(T0) + 10_000), operatorRoles: ['operator'] } as unknown as ApiContext;
    await uiRoutes({ view: await FleetView.fromStore(store), latest: () => null, executor: { command: async () => { throw new Error('read-only test'); } }, changes: new Changes(), queryEvents: (q) => store.queryEvents(q), staticDir: path.resolve('dist/controller/ui/static') + '/' })(app, ctx);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('the live region: counts per phase, the failed then 98 in-flight rows (no done or pending one), "and 22 more", folded waves', async () => {
    const r = await get('/ui/rollouts/r-300');
    expect(r.status).toBe(200);
    const live = r.text.slice(r.text.indexOf('<div id="rollout-live"'), r.text.indexOf('<h2>Strategy</h2>'));
    for (const [phase, k] of [['pending', 34], ['gating', 120], ['healthy', 144], ['failed', 2], ['all', 300]] as const) expect(live).toContain(`<li data-phase="${phase}" data-count="${k}">`);
    const rows = rowNames(live);
    expect(rows).toHaveLength(100);
    expect(rows.slice(0, 2)).toEqual(['n010 failed', 'n100 failed']);
    expect(rows.slice(2).every((x) => x.endsWith(' gating'))).toBe(true);
    expect(live).toContain('data-testid="more-rows">and 22 more: <a href="/ui/rollouts/r-300/nodes">all 300 nodes</a>');
    // 61 waves, 9 boxes: the failed waves and the active one with its neighbours alone, the rest folded
    expect([...live.matchAll(/<div class="wave[^"]*" data-waves?="([\d-]+)" data-state="([a-z]+)"/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      '0-1:done', '2:failed', '3-19:done', '20:failed', '21-28:done', '29:done', '30:active', '31:pending', '32-60:pending',
    ]);
    expect(r.text).toContain('data-testid="rollout-phase">running<');
    expect(live.match(/<ul data-testid="waits-for">(.*?)<\/ul>/)![1].match(/<li>/g)).toHaveLength(20);
    expect(live).toContain('</ul><span class="muted">and 100 more</span>');
  });

  it('the node list: 200 a page, Next then Previous, every node once; filtered by phase; bad input 400, unknown rollout 404', async () => {
    const p1 = await get('/ui/rollouts/r-300/nodes');
    expect(p1.status).toBe(200);
    expect(p1.text).toContain('data-testid="node-range">Nodes 1–200 of 300 · page 1 of 2<');
    expect(nextOf(p1.text, 'prev')).toBeUndefined();
    const p2 = await get(nextOf(p1.text, 'next')!);
    expect(p2.text).toContain('Nodes 201–300 of 300 · page 2 of 2');
    expect(nextOf(p2.text, 'next')).toBeUndefined();
    expect(nextOf(p2.text, 'prev')).toBe('/ui/rollouts/r-300/nodes?page=1');
    const all = [...rowNames(p1.text), ...rowNames(p2.text)].map((x) => x.split(' ')[0]);
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    const gating = await get('/ui/rollouts/r-300/nodes?phase=gating');
    expect(rowNames(gating.text)).toHaveLength(120);
    expect(rowNames(gating.text).every((x) => x.endsWith(' gating'))).toBe(true);
    expect(gating.text).toContain('<option value="gating" selected>gating (120)</option>');
    for (const bad of ['phase=done', 'page=0', 'page=x']) {
      const b = await get(`/ui/rollouts/r-300/nodes?${bad}`);
      expect(b.status, bad).toBe(400);
      expect(b.text).toContain('<p role="alert"><strong>NW_USAGE</strong>: ');
      expect(b.text).toContain('<title>Error · nodewright</title>');
    }
    // the error page escapes what the request carried
    const hostile = await get('/ui/rollouts/r-300/nodes?phase=%3Cimg%20src%3Dx%3E');
    expect(hostile.status).toBe(400);
    expect(hostile.text).toContain('no node phase &lt;img src=x&gt;');
    expect(hostile.text).not.toContain('<img src=x>');
    expect((await get('/ui/rollouts/r-nope/nodes')).status).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/ui/rollouts/r-300/nodes' })).statusCode).toBe(401);
  });
});
