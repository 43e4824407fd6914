// The fleet page's numbers: grouping by hypervisor (unmapped otherwise), worst state wins, filters, and the live delta.
import { describe, expect, it } from 'vitest';
import { fleetDelta, fleetSummary, worse, type FleetNode } from '../../../../controller/ui/fleet-model.js';

const node = (name: string, o: Partial<FleetNode> = {}): FleetNode => ({ name, labels: {}, hypervisor: null, health: 'healthy', reason: null, ready: true, ...o });

describe('fleetSummary', () => {
  const fleet = [
    node('w2', { hypervisor: 'hv-a', labels: { zone: 'z1' } }),
    node('w1', { hypervisor: 'hv-a', health: 'degraded', reason: 'unit failed', ready: false, labels: { zone: 'z1' } }),
    node('w3', { hypervisor: 'hv-b', health: 'unknown', ready: false }),
    node('w4', { health: 'unreachable', ready: false, labels: { zone: 'z2' } }),
  ];

  it('groups by hypervisor, unmapped last, tiles by name; ready/total and the worst state per group and overall', () => {
    const s = fleetSummary(fleet);
    expect(s.groups.map((g) => [g.domain, `${g.ready}/${g.total}`, g.worst, g.tiles.map((t) => t.name).join()])).toEqual([
      ['hv-a', '1/2', 'degraded', 'w1,w2'],
      ['hv-b', '0/1', 'unknown', 'w3'],
      ['unmapped', '0/1', 'unreachable', 'w4'],
    ]);
    expect([s.ready, s.total, s.worst]).toEqual([1, 4, 'unreachable']);
    expect(s.groups[0].tiles[0].title).toBe('w1: degraded (unit failed)');
  });

  it('the worst state wins in this order: unreachable > degraded > unknown > healthy', () => {
    expect(worse('healthy', 'unknown')).toBe('unknown');
    expect(worse('unknown', 'degraded')).toBe('degraded');
    expect(worse('unreachable', 'degraded')).toBe('unreachable');
    expect(worse('degraded', 'healthy')).toBe('degraded');
  });

  it('filters by domain, label (k=v exact, or k present) and state; the domain list stays whole', () => {
    expect(fleetSummary(fleet, { domain: 'hv-a' }).groups.map((g) => g.domain)).toEqual(['hv-a']);
    expect(fleetSummary(fleet, { label: 'zone=z1' }).total).toBe(2);
    expect(fleetSummary(fleet, { label: 'zone' }).total).toBe(3);
    expect(fleetSummary(fleet, { label: 'zone=z' }).total).toBe(0);
    const s = fleetSummary(fleet, { state: 'unknown' });
    expect([s.total, s.worst, s.domains]).toEqual([1, 'unknown', ['hv-a', 'hv-b', 'unmapped']]);
  });

  it('filters by part of the name, any case, with the others', () => {
    expect(fleetSummary(fleet, { name: 'W' }).total).toBe(4);
    expect(fleetSummary(fleet, { name: '3' }).groups.map((g) => g.tiles.map((t) => t.name))).toEqual([['w3']]);
    expect(fleetSummary(fleet, { name: 'w', state: 'degraded' }).groups.map((g) => g.tiles.map((t) => t.name))).toEqual([['w1']]);
    expect(fleetSummary(fleet, { name: 'x' }).total).toBe(0);
  });
});

describe('fleetDelta', () => {
  it('first: everything; then only the tiles and headers that changed; nothing when nothing did', () => {
    const a = [node('w1', { hypervisor: 'hv-a' }), node('w2', { hypervisor: 'hv-a' }), node('w3', { hypervisor: 'hv-b' })];
    const first = fleetDelta(null, fleetSummary(a));
    expect(first.delta!.tiles).toHaveLength(3);
    expect(first.delta!.headers).toHaveLength(2);
    expect(fleetDelta(first.shown, fleetSummary(a)).delta).toBeNull();
    const b = [a[0], { ...a[1], health: 'degraded' as const, ready: false }, a[2]];
    const d = fleetDelta(first.shown, fleetSummary(b)).delta!;
    expect(d.tiles).toEqual([{ name: 'w2', domain: 'hv-a', state: 'degraded', title: 'w2: degraded' }]);
    expect([d.removed, d.removedDomains]).toEqual([[], []]);
    expect(d.headers).toEqual([{ domain: 'hv-a', ready: 1, total: 2, worst: 'degraded' }]);
    expect(d.summary).toEqual({ ready: 2, total: 3, worst: 'degraded' });
  });

  it('a node that leaves the page (removed, or out of its filter) and an emptied domain are named; a new one is a tile with its domain', () => {
    const a = [node('w1', { hypervisor: 'hv-a' }), node('w2', { hypervisor: 'hv-b' })];
    const first = fleetDelta(null, fleetSummary(a, { state: 'healthy' }));
    const b = [a[0], { ...a[1], health: 'unreachable' as const, ready: false }, node('w3', { hypervisor: 'hv-a' })];
    const d = fleetDelta(first.shown, fleetSummary(b, { state: 'healthy' })).delta!;
    expect(d.removed).toEqual(['w2']);
    expect(d.removedDomains).toEqual(['hv-b']);
    expect(d.tiles).toEqual([{ name: 'w3', domain: 'hv-a', state: 'healthy', title: 'w3: healthy' }]);
  });
});
