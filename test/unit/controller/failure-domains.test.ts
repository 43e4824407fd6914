// Failure domains in a rollout: the plan keeps them apart, a node waits while its domain is at
// maxUnavailablePerDomain (the reason says which nodes, as data), a node that moved before its push
// is planned by its new domain (an event records it), and the status says how many are unmapped.
import { describe, expect, it } from 'vitest';
import { mappedDomains } from '../../../controller/rollout/domains.js';
import { describe as describeRollout, failureDomainNote, newRollout, step, type RolloutTarget } from '../../../controller/rollout/engine.js';
import { eventsOf } from '../../../controller/rollout/executor.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { resolveTarget } from '../../../controller/rollout/target.js';
import type { NodeRecord } from '../../../controller/store/store.js';
import { NwError } from '../../../host/errors.js';
import { deliver, iso, observe, simFleet, T0 } from './engine-sim.js';

const target = (name: string, failureDomain?: string): RolloutTarget => ({ name, failureDomain, baseGeneration: 1, previousGeneration: 1, canRollBack: true });

describe('failure domains in a rollout', () => {
  it('maps nodes by label or hypervisor, leaving unmapped ones out', async () => {
    const node = (name: string, labels: Record<string, string>, hypervisor?: string) => ({ name, labels, hypervisor: hypervisor ?? null, hypervisorRule: hypervisor ? ('instance-uuid' as const) : null });
    const nodes = [node('w1', { zone: 'a' }, 'compute-1'), node('w2', { zone: 'b' }), node('w3', {})];
    expect(mappedDomains(nodes, 'label:zone')).toEqual({ w1: 'a', w2: 'b' });
    expect(mappedDomains(nodes, 'hypervisor')).toEqual({ w1: 'compute-1' });
    expect(mappedDomains(nodes, 'none')).toEqual({});
  });

  it('stores the source and the unmapped count; an unmapped node is its own domain', async () => {
    const s = newRollout({
      id: 'r', target: 'group g', now: iso(T0), strategy: parseStrategy({ steps: '2' }), failureDomainSource: 'label:zone',
      nodes: [target('w1', 'a'), target('w2', 'a'), target('w3', 'b'), target('w4')],
    });
    expect(s.failureDomainSource).toBe('label:zone');
    expect(s.unmapped).toBe(1);
    expect(s.nodes.find((n) => n.name === 'w4')!.failureDomain).toBe('node:w4');
    for (let w = 0; w < s.waveCount; w++) {
      const ds = s.nodes.filter((n) => n.wave === w).map((n) => n.failureDomain);
      expect(new Set(ds).size).toBe(ds.length);
    }
    expect(failureDomainNote(s)).toBe('1 of 4 node(s) not mapped by label:zone: each is its own failure domain');
    const none = newRollout({ id: 'r', target: 'g', now: iso(T0), strategy: parseStrategy(), nodes: [target('w1')] });
    expect(none).toMatchObject({ failureDomainSource: 'none', unmapped: 0 });
    expect(failureDomainNote(none)).toBeNull();
  });

  it('hypervisor with no node mapped: not refused, but the status says it is most likely a mistake', async () => {
    const s = newRollout({ id: 'r', target: 'g', now: iso(T0), strategy: parseStrategy(), failureDomainSource: 'hypervisor', nodes: [target('w1'), target('w2')] });
    expect(s.unmapped).toBe(2);
    const view = describeRollout(s, iso(T0));
    expect(view.failureDomainNote).toMatch(/no target node is mapped to a hypervisor/);
    expect(view.failureDomainNote).toMatch(/nodes ls/);
  });

  it('a node waits while its domain has maxUnavailablePerDomain nodes unhealthy, and says which', async () => {
    // wave 1: w1 (a), w2 (b); wave 2: w3 (a)
    let s = newRollout({
      id: 'r', target: 'g', now: iso(T0), strategy: parseStrategy({ steps: '2', maxUnavailable: '3', minHealthy: '5s', soak: '10s' }), failureDomainSource: 'label:zone',
      nodes: [target('w1', 'a'), target('w2', 'b'), target('w3', 'a')],
    });
    expect(s.nodes.map((n) => [n.name, n.wave])).toEqual([['w1', 0], ['w2', 0], ['w3', 1]]);
    const agents = simFleet({ w1: 'good', w2: 'good', w3: 'good' });
    let t = T0;
    while (s.wave === 0 && t < T0 + 60_000) {
      const tr = step(s, observe(agents, t), iso(t));
      s = tr.next;
      for (const d of deliver(s, tr.actions, agents, t)) s = d.next;
      t += 1000;
    }
    expect(s.wave).toBe(1);
    t += 10_000; // the soak between waves is over
    // w1 turns unhealthy after passing its gate: w3 (same domain) must not start
    const obs = observe(agents, t);
    obs.w1 = { ...obs.w1, health: 'degraded', ready: false, reason: 'probe rbd failed' };
    const tr = step(s, obs, iso(t));
    expect(tr.actions.filter((a) => a.kind === 'push')).toEqual([]);
    const w3 = tr.next.nodes.find((n) => n.name === 'w3')!;
    expect(w3.phase).toBe('pending');
    expect(w3.hold).toEqual({ code: 'domain-busy', domain: 'a', inFlight: [], unhealthy: ['w1'], limit: 1 });
    expect(w3.reason).toBe('a already has 1 node unhealthy (w1)');
    expect(tr.next.state).toBe('waiting');
    expect(tr.next.reason).toBe('w3 waits: a already has 1 node unhealthy (w1)');
    // with two allowed per domain it starts
    const two = step({ ...s, strategy: { ...s.strategy, maxUnavailablePerDomain: 2 } }, obs, iso(t));
    expect(two.actions).toContainEqual(expect.objectContaining({ kind: 'push', node: 'w3' }));
    // w1 healthy again: w3 starts, its hold gone
    const again = step(tr.next, observe(agents, t + 1000), iso(t + 1000));
    expect(again.actions).toContainEqual(expect.objectContaining({ kind: 'push', node: 'w3' }));
    expect(again.next.nodes.find((n) => n.name === 'w3')!.hold).toBeUndefined();
  });

  it('a node that moved before its push is planned by its new domain: it waits for the node of its wave there, with an event', async () => {
    const s = newRollout({
      id: 'r', target: 'g', now: iso(T0), strategy: parseStrategy({ steps: '2', maxUnavailable: '2' }), failureDomainSource: 'hypervisor',
      nodes: [target('w1', 'compute-a'), target('w2', 'compute-b')],
    });
    expect(s.waveCount).toBe(1);
    // w2 was live-migrated to compute-a after the rollout was created
    const tr = step(s, observe(simFleet({ w1: 'good', w2: 'good' }), T0), iso(T0), { w1: 'compute-a', w2: 'compute-a' });
    expect(tr.actions.filter((a) => a.kind === 'push').map((a) => a.kind === 'push' && a.node)).toEqual(['w1']);
    const w2 = tr.next.nodes.find((n) => n.name === 'w2')!;
    expect(w2).toMatchObject({ phase: 'pending', failureDomain: 'compute-a', reason: 'compute-a already has 1 node in progress (w1)' });
    expect(describeRollout(tr.next, iso(T0)).waitsFor).toContain('w2 waits: compute-a already has 1 node in progress (w1)');
    const events = eventsOf(s, tr.next, 'controller', iso(T0));
    expect(events).toContainEqual(expect.objectContaining({
      kind: 'rollout.node.domain-changed', subject: 'w2', data: { rollout: 'r', from: 'compute-b', to: 'compute-a' },
    }));
    // an unmapped answer is no evidence of a move: the planned domain stays
    const kept = step(s, observe(simFleet({ w1: 'good', w2: 'good' }), T0), iso(T0), {});
    expect(kept.next.nodes.map((n) => n.failureDomain)).toEqual(['compute-a', 'compute-b']);
    expect(kept.actions.filter((a) => a.kind === 'push')).toHaveLength(2);
  });

  it('rollouts stored before failure domains keep working (one node per domain, limit 1)', async () => {
    const s = newRollout({ id: 'r', target: 'g', now: iso(T0), strategy: parseStrategy({ steps: '2', maxUnavailable: '2' }), nodes: [target('w1'), target('w2')] });
    const { maxUnavailablePerDomain: _m, ...oldStrategy } = s.strategy;
    const { failureDomainSource: _f, unmapped: _u, ...old } = s;
    const tr = step({ ...old, strategy: oldStrategy as typeof s.strategy }, observe(simFleet({ w1: 'good', w2: 'good' }), T0), iso(T0));
    expect(tr.actions.filter((a) => a.kind === 'push')).toHaveLength(2);
    expect(failureDomainNote(old)).toBeNull();
  });

  it('resolveTarget: the nodes of exactly one target, in one group, with the domain of each the source maps', async () => {
    const rec = (name: string, group: string, labels: Record<string, string>) => ({ name, group, labels, hypervisor: null, hypervisorRule: null }) as unknown as NodeRecord;
    const all = [rec('w1', 'g', { zone: 'a' }), rec('w2', 'g', { zone: 'b' }), rec('w3', 'g', {}), rec('x1', 'h', { zone: 'a' })];
    const store = {
      listNodes: async (f?: { group?: string; labels?: Record<string, string>; names?: string[] }) =>
        all.filter((n) => (!f?.group || n.group === f.group) && (!f?.names || f.names.includes(n.name)) && Object.entries(f?.labels ?? {}).every(([k, v]) => n.labels[k] === v)),
    };
    const t = await resolveTarget(store, { group: 'g' }, 'label:zone');
    expect(t).toMatchObject({ target: 'group g', failureDomainSource: 'label:zone', failureDomains: { w1: 'a', w2: 'b' } });
    expect(t.nodes.map((n) => n.name)).toEqual(['w1', 'w2', 'w3']);
    const code = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        return `${(e as NwError).code}: ${(e as NwError).message}`;
      }
      return 'no error';
    };
    expect(await code(() => resolveTarget(store, { group: 'g', nodes: ['w1'] }, 'none'))).toMatch(/^NW_USAGE: name exactly one target/);
    expect(await code(() => resolveTarget(store, { nodes: ['w1', 'w9'] }, 'none'))).toMatch(/^NW_NOT_FOUND: not enrolled: w9/);
    expect(await code(() => resolveTarget(store, { labels: { zone: 'a' } }, 'none'))).toMatch(/^NW_USAGE: the target spans node groups g, h/);
  });
});
