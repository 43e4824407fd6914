// The live streams' decisions tick by tick: nothing while the revision stands, only what changed
// after the page's revision, everything first for another boot's id or an older revision, the
// id alone when nothing shown changed, a countdown re-rendered each second.
import { describe, expect, it } from 'vitest';
import { Changes } from '../../../../controller/ui/changes.js';
import { fleetSummary, type FleetNode } from '../../../../controller/ui/fleet-model.js';
import { fleetFeed, regionFeed, sharedRegions } from '../../../../controller/ui/live.js';

const node = (name: string, o: Partial<FleetNode> = {}): FleetNode => ({ name, labels: {}, hypervisor: 'hv-a', health: 'healthy', reason: null, ready: true, ...o });

describe('fleetFeed', () => {
  it('a page at the current revision: nothing until it moves, then only the changed tile; the id alone when nothing it shows changed', async () => {
    const c = new Changes();
    let nodes = [node('w1'), node('w2')];
    const feed = fleetFeed({ changes: c, lastId: c.id, summary: () => fleetSummary(nodes) });
    expect(await feed.next()).toEqual([]);
    nodes = [node('w1'), node('w2', { health: 'degraded', ready: false })];
    c.bump();
    const [m] = await feed.next();
    expect(m.id).toBe(`${c.bootId}-1`);
    expect(m.event).toBe('fleet');
    expect(JSON.parse(m.data!).tiles.map((t: { name: string }) => t.name)).toEqual(['w2']);
    expect(await feed.next()).toEqual([]);
    c.bump();
    expect(await feed.next()).toEqual([{ id: `${c.bootId}-2` }]);
  });

  it('an id of another boot or an older revision: the whole fleet first', async () => {
    const c = new Changes();
    c.bump();
    for (const lastId of ['feedbeef-1', `${c.bootId}-0`, null]) {
      const [m] = await fleetFeed({ changes: c, lastId, summary: () => fleetSummary([node('w1'), node('w2')]) }).next();
      expect(JSON.parse(m.data!).tiles).toHaveLength(2);
    }
  });
});

describe('regionFeed', () => {
  it('re-renders when the revision moves and sends only a region that differs; a countdown is rendered every second', async () => {
    const c = new Changes();
    let t = 0;
    let text = 'a';
    let countdown = false;
    let renders = 0;
    const feed = regionFeed({ changes: c, lastId: c.id, now: () => t, render: async () => (renders++, { text, countdown }) });
    expect(await feed.next()).toEqual([]); // the first render only learns what the page shows
    expect(renders).toBe(1);
    t += 5000;
    expect(await feed.next()).toEqual([]); // no countdown: no render without a move
    expect(renders).toBe(1);
    c.bump();
    expect(await feed.next()).toEqual([]); // moved, but the region is the same
    text = 'b';
    countdown = true;
    c.bump();
    expect(await feed.next()).toEqual([{ id: `${c.bootId}-2`, data: 'b' }]);
    text = 'c';
    t += 500;
    expect(await feed.next()).toEqual([]);
    t += 500;
    expect(await feed.next()).toEqual([{ id: `${c.bootId}-2`, data: 'c' }]);
  });

  it('a reconnect from another boot gets the region at once', async () => {
    const c = new Changes();
    const feed = regionFeed({ changes: c, lastId: 'other-0', render: async () => ({ text: 'x', countdown: false }) });
    expect(await feed.next()).toEqual([{ id: `${c.bootId}-0`, data: 'x' }]);
  });
});

describe('sharedRegions', () => {
  it('every stream of a page shares one render per revision and second; another page, a moved revision or the next second renders again; a failed render is not kept', async () => {
    const c = new Changes();
    let t = 10_000;
    let renders = 0;
    const regions = sharedRegions({ changes: c, now: () => t });
    const render = async () => ({ text: `r${++renders}`, countdown: true });
    const [a, b] = await Promise.all([regions('r-1', render), regions('r-1', render)]);
    expect([a.text, b.text, renders]).toEqual(['r1', 'r1', 1]);
    t += 900;
    expect((await regions('r-1', render)).text).toBe('r1');
    expect((await regions('r-2', render)).text).toBe('r2');
    c.bump();
    expect((await regions('r-1', render)).text).toBe('r3');
    t += 100; // the next second
    expect((await regions('r-1', render)).text).toBe('r4');
    await expect(regions('r-3', async () => { throw new Error('gone'); })).rejects.toThrow('gone');
    expect((await regions('r-3', render)).text).toBe('r5');
  });
});
