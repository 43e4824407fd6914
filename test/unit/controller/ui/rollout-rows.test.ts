// A rollout's nodes at scale: counts per phase, the live region's rows (all of a small rollout;
// of a large one only the failed, rolling back, in-flight and held, capped), the paged list.
import { describe, expect, it } from 'vitest';
import type { NodePhase, RolloutNode } from '../../../../controller/rollout/engine.js';
import { liveRows, nodePage, phaseCounts } from '../../../../controller/ui/rollout-rows.js';

type N = Pick<RolloutNode, 'name' | 'wave' | 'phase' | 'failureDomain' | 'targetGeneration' | 'rollbackGeneration' | 'reason' | 'hold'>;
const node = (i: number, phase: NodePhase, held = false): N => ({
  name: `w${String(i).padStart(4, '0')}`, wave: Math.floor(i / 10), phase, failureDomain: 'hv-a', targetGeneration: phase === 'pending' ? null : 2, rollbackGeneration: phase === 'rolling_back' ? 3 : null, reason: held ? 'its failure domain is busy' : null,
  ...(held ? { hold: { code: 'domain-busy' as const, domain: 'hv-a', inFlight: ['w0000'], unhealthy: [], limit: 1 } } : {}),
});

/** 1,000 nodes: 600 healthy, then 3 failed, 1 rolling back, 150 gating, 5 pushing, 40 held, 201 pending. */
function large(): N[] {
  const phases: [NodePhase, number, boolean?][] = [['healthy', 600], ['failed', 3], ['rolling_back', 1], ['gating', 150], ['pushing', 5], ['pending', 40, true], ['pending', 201]];
  const out: N[] = [];
  for (const [phase, k, held] of phases) for (let j = 0; j < k; j++) out.push(node(out.length, phase, held));
  return out;
}

describe('phaseCounts', () => {
  it('every phase counted, zeros included', () => {
    expect(phaseCounts(large())).toEqual({ pending: 241, pushing: 5, gating: 150, healthy: 600, failed: 3, rolling_back: 1, rolled_back: 0, skipped: 0 });
  });
});

describe('liveRows', () => {
  it('a rollout of at most 100 nodes: every node, in rollout order', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => node(i, i < 50 ? 'healthy' : 'pending'));
    const r = liveRows(nodes);
    expect(r.all).toBe(true);
    expect(r.more).toBe(0);
    expect(r.rows.map((x) => x.name)).toEqual(nodes.map((x) => x.name));
  });

  it('a large rollout: failed first, then rolling back, in flight, held; never healthy or plain pending; capped at 100 with the rest counted', () => {
    const r = liveRows(large());
    expect(r.all).toBe(false);
    expect(r.rows).toHaveLength(100);
    expect(r.more).toBe(3 + 1 + 155 + 40 - 100);
    expect(r.rows.slice(0, 4).map((x) => x.phase)).toEqual(['failed', 'failed', 'failed', 'rolling_back']);
    expect(r.rows[3].generation).toBe(3); // a rollback's generation
    expect(new Set(r.rows.slice(4).map((x) => x.phase))).toEqual(new Set(['gating']));
    expect(r.rows.some((x) => x.phase === 'healthy' || (x.phase === 'pending' && !x.held))).toBe(false);
  });

  it('held nodes are shown when the cap leaves room; none at all when nothing needs an operator', () => {
    const r = liveRows(large(), 300);
    expect(r.rows.filter((x) => x.held)).toHaveLength(40);
    expect(r.rows.at(-1)!.reason).toBe('its failure domain is busy');
    expect(r.more).toBe(0);
    const done = Array.from({ length: 500 }, (_, i) => node(i, 'healthy'));
    expect(liveRows(done)).toEqual({ rows: [], more: 0, all: false });
  });
});

describe('nodePage', () => {
  it('200 a page in rollout order; the last page partial; filtered by phase; a page past the end shows the last', () => {
    const nodes = large();
    const p1 = nodePage(nodes, { phase: null, page: 1 });
    expect(p1).toMatchObject({ page: 1, pages: 5, total: 1000, first: 1 });
    expect(p1.rows.map((x) => x.name)).toEqual(nodes.slice(0, 200).map((x) => x.name));
    const p5 = nodePage(nodes, { phase: null, page: 5 });
    expect(p5.rows[0].name).toBe('w0800');
    expect(nodePage(nodes, { phase: null, page: 99 })).toEqual(p5);
    const gating = nodePage(nodes, { phase: 'gating', page: 1 }, 100);
    expect(gating).toMatchObject({ phase: 'gating', page: 1, pages: 2, total: 150, first: 1 });
    expect(nodePage(nodes, { phase: 'gating', page: 2 }, 100).rows.map((x) => x.phase)).toEqual(Array(50).fill('gating'));
    expect(nodePage(nodes, { phase: 'skipped', page: 1 })).toMatchObject({ rows: [], page: 1, pages: 1, total: 0, first: 0 });
  });
});
