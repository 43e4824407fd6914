// The dashboard on a follower of an HA set (two real controller daemons on one PostgreSQL, honest
// simulated agents polled by the leader): the follower's pages show what the leader wrote (the
// database's observations; a node page asks its agent directly), its live stream follows the rollout the
// leader moves, and its action buttons work (bulk ones too): the follower forwards the command to the leader.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresLab } from '../../../lab/postgres/lab.js';
import { call } from './fixture.js';
import { Fleet, until } from './ha-fleet.js';

describe('dashboard pages on a follower', () => {
  let lab: PostgresLab;
  let ha: Fleet;
  beforeAll(async () => {
    lab = await startPostgres();
    ha = await Fleet.start(lab, 2);
  }, 180_000);
  afterAll(async () => {
    await ha?.close();
    await lab?.stop();
  }, 60_000);

  it('fleet and node pages from the database; the rollout page follows the leader\'s moves live and its buttons act through the leader', async () => {
    const [c1, c2] = [ha.member('c1'), ha.member('c2')];
    const tls = { ca: readFileSync(path.join(ha.dir, 'ca.crt'), 'utf8'), cert: readFileSync(path.join(ha.dir, 'operator.crt'), 'utf8'), key: readFileSync(path.join(ha.dir, 'operator.key'), 'utf8') };
    const page = (route: string) => call(`${c2.url}${route}`, tls);
    await until('both nodes healthy on the follower\'s fleet page', async () => {
      const t = (await page('/ui/')).text;
      return t.includes('data-node="node-0" data-state="healthy"') && t.includes('data-node="node-1" data-state="healthy"');
    }, 30_000, () => c2.logTail());
    const node = (await page('/ui/nodes/node-0')).text;
    expect(node).toContain('data-testid="node-state" data-state="healthy"');
    // the follower does not poll: for the node page it asks the agent itself (its own certificate)
    expect(node).toContain('<tr data-step="packages">');
    expect(node).toMatch(/<dt>Agent<\/dt><dd>[^<—]+, up since /);

    const id = (await ha.ok(c1, 'POST', '/v1/rollouts', { group: 'fleet', desired: { runtime: 'rkt', packages: { policy: 'skip' }, kubelet: { kind: 'image', version: '1.10.13', tag: 'ha-ui' } }, strategy: { steps: '1', minHealthy: '30s', gateTimeout: '5m' } })).id as string;
    await until('the rollout on the follower\'s page', async () => (await page(`/ui/rollouts/${id}`)).status === 200, 10_000);
    const t = (await page(`/ui/rollouts/${id}`)).text;
    expect(t).toContain(`hx-post="/ui/rollouts/${id}/pause"`);
    const list = (await page('/ui/rollouts')).text;
    expect(list).toContain(`<tr data-rollout="${id}"><td><input type="checkbox" name="ids" value="${id}"`);
    expect(list).toContain('>Pause all running</button>');

    // the follower's stream: a fragment when the leader pauses the rollout
    const fragments: { at: number; text: string }[] = [];
    const req = https.request(`${c2.url}/ui/live/rollouts/${id}`, { ...tls, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => fragments.push({ at: Date.now(), text: c }));
    });
    req.on('error', () => {});
    req.end();
    await until('the first fragment', () => fragments.some((f) => f.text.includes('rollout-phase')), 10_000);
    const t0 = Date.now();
    await ha.ok(c1, 'POST', `/v1/rollouts/${id}/pause`, {});
    const paused = await until('a paused fragment from the follower', () => fragments.find((f) => f.text.includes('data-testid="rollout-phase">paused<')), 10_000, () => c2.logTail());
    process.stderr.write(`ui-pages-ha: the leader's pause reached the follower's stream in ${paused.at - t0} ms\n`);
    expect(paused.at - t0).toBeLessThan(3000);
    req.destroy();

    // Resume from the follower's page: its session (made for the operator's certificate), its CSRF
    // token; the follower forwards the command to the leader, which records the operator
    const first = await page('/ui/session');
    const cookie = String(([] as string[]).concat(first.headers['set-cookie'] ?? [])[0]).split(';')[0];
    const post = (headers: Record<string, string>) =>
      call(`${c2.url}/ui/rollouts/${id}/resume`, { ...tls, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: c2.url, ...headers }, body: '' });
    expect((await post({})).status).toBe(403); // no CSRF token: refused on the follower, nothing forwarded
    expect((await ha.ok(c1, 'GET', `/v1/rollouts/${id}`)).state).toBe('paused');
    const resumed = await post({ 'x-csrf-token': first.json.csrf });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.text).not.toContain('data-testid="rollout-phase">paused<');
    expect((await ha.ok(c1, 'GET', `/v1/rollouts/${id}`)).state).not.toBe('paused');
    const events = (await ha.ok(c1, 'GET', '/v1/events?limit=1000')).events as { kind: string; actor: string; subject: string }[];
    const moves = events.filter((e) => e.subject === id && e.kind.startsWith('rollout.'));
    expect(moves.at(-1)).toMatchObject({ kind: 'rollout.running', actor: first.json.actor }); // the operator, not the forwarding controller

    // Pause all running from the follower's rollouts list: forwarded the same way, per rollout
    const bulk = await call(`${c2.url}/ui/rollouts/bulk/pause`, { ...tls, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: c2.url, 'x-csrf-token': first.json.csrf }, body: 'all=1' });
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.text).toContain(`<li data-bulk-id="${id}" data-outcome="done">`);
    expect((await ha.ok(c1, 'GET', `/v1/rollouts/${id}`)).state).toBe('paused');
    const after = (await ha.ok(c1, 'GET', '/v1/events?limit=1000')).events as { kind: string; actor: string; subject: string }[];
    expect(after.filter((e) => e.subject === id && e.kind.startsWith('rollout.')).at(-1)).toMatchObject({ kind: 'rollout.paused', actor: first.json.actor });

    // an agent that does not answer: the follower's node page says why, beside the stored observation
    await ha.agents.find((a) => a.name === 'node-1')!.close();
    const gone = (await page('/ui/nodes/node-1')).text;
    expect(gone).toMatch(/The agent did not answer this controller: [^<]*ECONNREFUSED/);
    expect(gone).toContain('Last observation: ');
  }, 90_000);
});
