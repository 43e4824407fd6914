// Page fragments and stream plumbing: names from agents and operators stay text in every context,
// buttons follow the phase, the SSE wire format, the change revision and where the assets are.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newRollout } from '../../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../../controller/rollout/strategy.js';
import { staticDir } from '../../../../controller/ui/assets.js';
import { Changes } from '../../../../controller/ui/changes.js';
import { fleetSummary } from '../../../../controller/ui/fleet-model.js';
import { fleetView } from '../../../../controller/ui/pages/fleet.js';
import { rolloutLive } from '../../../../controller/ui/pages/rollout.js';
import { rolloutNodesView } from '../../../../controller/ui/pages/rollout-nodes.js';
import { rolloutModel } from '../../../../controller/ui/rollout-model.js';
import { nodePage, phaseCounts } from '../../../../controller/ui/rollout-rows.js';
import { sseText } from '../../../../controller/ui/sse.js';
import { tempDir } from '../../../tmp.js';

describe('fleet page', () => {
  it('a hostile hypervisor name, label and reason stay inside their attributes and text', () => {
    const nodes = [{ name: 'w1', labels: { k: '"><script>' }, hypervisor: '"><img src=x onerror=alert(1)>', health: 'degraded' as const, reason: "<b>x</b>' onclick='y", ready: false }];
    const t = fleetView(fleetSummary(nodes), { label: '"><i>' }, 'b-1').text;
    expect(t).not.toMatch(/<script>|<img|<b>|<i>/);
    expect(t).toContain('data-domain="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(t).toContain('title="w1: degraded (&lt;b&gt;x&lt;/b&gt;&#39; onclick=&#39;y)"');
    expect(t).toContain('hx-sse:connect="/ui/live/fleet?label=%22%3E%3Ci%3E&amp;since=b-1"');
  });
});

describe('rollout live region', () => {
  const state = newRollout({ id: 'r-1', target: 'group lab', nodes: [{ name: 'w1', baseGeneration: 1, previousGeneration: 1, canRollBack: true }], strategy: parseStrategy({}), now: '2026-12-07T10:00:00.000Z' });
  it('running: Pause, Abort, Rollback buttons posting to the rollout, each confirmed', () => {
    const t = rolloutLive(rolloutModel(state, '2026-12-07T10:00:01.000Z', () => null)).text;
    expect([...t.matchAll(/hx-post="([^"]+)" hx-confirm="[^"]+"[^>]*>(\w+)<\/button>/g)].map((m) => `${m[2]} ${m[1]}`)).toEqual([
      'Pause /ui/rollouts/r-1/pause', 'Abort /ui/rollouts/r-1/abort', 'Rollback /ui/rollouts/r-1/rollback',
    ]);
  });
});

describe('rollout page at scale', () => {
  const names = Array.from({ length: 1000 }, (_, i) => ({ name: `w${String(i).padStart(4, '0')}`, baseGeneration: 1, previousGeneration: 1, canRollBack: true }));
  const big = newRollout({ id: 'r-2', target: 'group big', nodes: names, strategy: parseStrategy({ steps: '1,5' }), now: '2026-12-07T10:00:00.000Z' });
  for (const n of big.nodes) if (n.wave < 100) n.phase = 'healthy';
  big.nodes[600].phase = 'gating';
  big.nodes[600].name = '"><script>x</script>';
  big.wave = 100;

  it('the live region: counts linking to the filtered list, folded waves, only the node that needs an operator, a link to every node', () => {
    const t = rolloutLive(rolloutModel(big, '2026-12-07T10:00:01.000Z', () => null)).text;
    expect(t).toContain('<li data-phase="gating" data-count="1"><a href="/ui/rollouts/r-2/nodes?phase=gating">gating</a> <strong>1</strong></li>');
    expect(t).toContain('<li data-phase="healthy" data-count="496">');
    expect(t).toContain('<div class="wave range" data-waves="0-98" data-state="done" title="waves 0–98: done">waves 0–98 · 491/491 · done</div>');
    expect(t).toContain('<div class="wave" data-wave="100" data-state="active"');
    expect(t.match(/<tr data-node=/g)).toHaveLength(1);
    expect(t).toContain('<tr data-node="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">');
    expect(t).not.toContain('<script>');
    expect(t).not.toContain('data-testid="more-rows"');
    expect(t).toContain('<a href="/ui/rollouts/r-2/nodes">Every node, 200 a page</a>');
  });

  it('the node list: 200 rows a page, Previous and Next keep the phase filter, the filter shows counts', () => {
    const page = (phase: 'healthy' | null, n: number) => rolloutNodesView({ id: 'r-2', page: nodePage(big.nodes, { phase, page: n }), counts: phaseCounts(big.nodes), total: 1000, pruned: false }).text;
    const p2 = page('healthy', 2);
    expect(p2.match(/<tr data-node=/g)).toHaveLength(200);
    expect(p2).toContain('data-testid="node-range">Nodes 201–400 of 496 healthy · page 2 of 3<');
    expect(p2).toContain('<a href="/ui/rollouts/r-2/nodes?phase=healthy&amp;page=1" rel="prev">Previous</a>');
    expect(p2).toContain('<a href="/ui/rollouts/r-2/nodes?phase=healthy&amp;page=3" rel="next">Next</a>');
    expect(p2).toContain('<option value="healthy" selected>healthy (496)</option>');
    const p1 = page(null, 1);
    expect(p1).not.toContain('rel="prev"');
    expect(p1).toContain('<option value="" selected>any (1000)</option>');
    expect(page(null, 5)).not.toContain('rel="next"');
  });
});

describe('SSE and the change revision', () => {
  it('each line of data its own data: line; an id-only message carries no data', () => {
    expect(sseText({ id: 'b-2', data: '<p>\n</p>' })).toBe('id: b-2\ndata: <p>\ndata: </p>\n\n');
    expect(sseText({ id: 'b-3', event: 'fleet', data: '{}' })).toBe('id: b-3\nevent: fleet\ndata: {}\n\n');
    expect(sseText({ id: 'b-4' })).toBe('id: b-4\n\n');
  });
  it('an id is current only for this boot and revision', () => {
    const c = new Changes();
    const id = c.id;
    expect(c.current(id)).toBe(true);
    c.bump();
    expect(c.current(id)).toBe(false);
    expect(c.current(`other-${c.revision}`)).toBe(false);
    expect(c.current(null)).toBe(false);
  });
  it('a counter of its own (the fleet view\'s version) moves the revision too', () => {
    let view = 0;
    const c = new Changes(() => view);
    const id = c.id;
    view += 1;
    expect(c.current(id)).toBe(false);
    expect(c.id).toBe(`${c.bootId}-1`);
  });
});

describe('staticDir', () => {
  it('finds static/ beside the module (dev build) or ui-static/ beside the bundle (package), else a coded error', () => {
    const root = tempDir('nw-ui-assets-');
    for (const d of ['dev/static', 'pkg/lib/ui-static']) {
      mkdirSync(path.join(root, d), { recursive: true });
      writeFileSync(path.join(root, d, 'htmx.min.js'), '');
    }
    expect(staticDir(pathToFileURL(path.join(root, 'dev/assets.js')).href)).toBe(path.join(root, 'dev/static/'));
    expect(staticDir(pathToFileURL(path.join(root, 'pkg/lib/nodewright-abc.mjs')).href)).toBe(path.join(root, 'pkg/lib/ui-static/'));
    expect(() => staticDir(pathToFileURL(path.join(root, 'nowhere/x.js')).href)).toThrow(/NW_CONFIG|static files are missing/);
  });
});

describe('uiRoutes without its static files (a dev build that skipped the bundle step)', () => {
  it('the dashboard answers with the coded error saying what to do; the server still starts', async () => {
    const { default: Fastify } = await import('fastify');
    const { FleetView } = await import('../../../../controller/fleet/view.js');
    const { uiRoutes } = await import('../../../../controller/ui/routes.js');
    const app = Fastify({ logger: false });
    const ctx = { store: {}, now: () => new Date(), operatorRoles: ['operator'] } as never;
    await uiRoutes({ view: new FleetView(), latest: () => null, executor: { command: async () => { throw new Error('unused'); } }, changes: new Changes(), queryEvents: async () => [] })(app, ctx);
    const r = await app.inject({ method: 'GET', url: '/ui/' });
    expect(r.body).toMatch(/static files are missing.*npm run build/);
    await app.close();
  });
});

describe('lists a page at a time', () => {
  it('rollouts: a row per rollout linking to it; Older carries the store\'s cursor only when there is a next page', async () => {
    const { rolloutsView } = await import('../../../../controller/ui/pages/rollouts.js');
    const r = { id: 'r-2', state: 'running' as const, reason: null, target: 'group lab', wave: 0, waveCount: 2, nodes: 3, done: 1, failures: 0, createdAt: 't', updatedAt: 't' };
    const o = { running: 1, cursor: null };
    const t = rolloutsView({ rollouts: [r], next: 'abc/=' }, o).text;
    expect(t).toContain('<tr data-rollout="r-2"><td><input type="checkbox" name="ids" value="r-2" aria-label="select r-2"></td><td><a href="/ui/rollouts/r-2">r-2</a></td>');
    expect(t).toContain('<a href="/ui/rollouts?cursor=abc%2F%3D" rel="next">Older</a>');
    expect(rolloutsView({ rollouts: [r], next: null }, o).text).not.toContain('Older');
  });

  it('rollouts bulk: a checkbox only on unfinished rows, the buttons, Pause all naming the count (on a follower too: its actions are forwarded to the leader)', async () => {
    const { rolloutsView, rolloutsLive } = await import('../../../../controller/ui/pages/rollouts.js');
    const row = (id: string, state: 'running' | 'completed' | 'paused') => ({ id, state, reason: null, target: 'group lab', wave: 0, waveCount: 1, nodes: 1, done: 0, failures: 0, createdAt: 't', updatedAt: 't' });
    const p = { rollouts: [row('r-1', 'running'), row('r-2', 'completed'), row('r-3', 'paused')], next: null };
    const t = rolloutsView(p, { running: 7, cursor: 'c1' }).text;
    expect(t).toContain('<tr data-rollout="r-2"><td></td><td><a');
    expect([...t.matchAll(/name="ids" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['r-1', 'r-3']);
    for (const [k, label] of [['pause', 'Pause selected'], ['resume', 'Resume selected'], ['abort', 'Abort selected']]) {
      expect(t).toMatch(new RegExp(`data-bulk="${k}" data-confirm="[^"]*\\{n\\}[^"]*" hx-post="/ui/rollouts/bulk/${k}" hx-confirm="[^"]*0 rollouts[^"]*" hx-target="#rollouts-live" hx-swap="innerHTML">${label}</button>`));
    }
    expect(t).toContain(`hx-post="/ui/rollouts/bulk/pause" hx-vals='{"all":"1"}' hx-confirm="Pause all 7 rollouts running in the fleet?`);
    expect(t).toContain('<input type="hidden" name="cursor" value="c1">');
    expect(rolloutsView(p, { running: 0, cursor: null }).text).not.toContain('Pause all running');
    const out = rolloutsLive(p, { running: 0, cursor: null, outcomes: { kind: 'resume', list: [{ id: 'r-3', done: true, code: null, message: 'running' }, { id: 'r-1', done: false, code: 'NW_ROLLOUT', message: '<script>x</script>' }] } }).text;
    expect(out).toContain('<strong>resume</strong>: 1 done, 1 refused');
    expect(out).toContain('<li data-bulk-id="r-3" data-outcome="done"><a href="/ui/rollouts/r-3">r-3</a>: done</li>');
    expect(out).toContain('<li data-bulk-id="r-1" data-outcome="refused"><a href="/ui/rollouts/r-1">r-1</a>: refused — <strong>NW_ROLLOUT</strong>: &lt;script&gt;x&lt;/script&gt;</li>');
  });

  it('events: newest first as given, filters kept in the Older link', async () => {
    const { eventsView } = await import('../../../../controller/ui/pages/events.js');
    const ev = [{ id: 9, at: 't9', actor: 'operator:alice', kind: 'rollout.paused', subject: 'r-1', message: '<b>paused</b>' }];
    const t = eventsView(ev, { kind: 'rollout.' }, 9).text;
    expect(t).toContain('<tr data-event="9"><td>t9</td><td>operator:alice</td><td>rollout.paused</td><td>r-1</td><td class="msg">&lt;b&gt;paused&lt;/b&gt;</td></tr>');
    expect(t).toContain('<a href="/ui/events?kind=rollout.&amp;before=9" rel="next">Older</a>');
  });
});
