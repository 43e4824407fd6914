// Each node's hypervisor and the rule that found it, on both adapters: written only on change,
// each change with its event in the same transaction, fenced like every write.
import { expect, it } from 'vitest';
import { bareNode, mappingEvent, T0 } from '../../../fixtures/store-records.js';
import { describeEachStore } from './harness.js';


const node = bareNode;
const event = mappingEvent;

describeEachStore('node hypervisor in the store', (h) => {
  const openFresh = async () => h.open(await h.fresh());

  it('a node starts unmapped; putNode and getNode carry the mapping', async () => {
    const s = await openFresh();
    await s.putNode(node('w1'));
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null, hypervisorRule: null });
    await s.putNode(node('w2', { hypervisor: 'cmp-a', hypervisorRule: 'instance-uuid' }));
    expect(await s.getNode('w2')).toMatchObject({ hypervisor: 'cmp-a', hypervisorRule: 'instance-uuid' });
  });

  it('setNodeHypervisors writes only changes, each with its event, and skips removed nodes', async () => {
    const s = await openFresh();
    for (const n of ['w1', 'w2', 'w3']) await s.putNode(node(n));
    const a = { hypervisor: 'cmp-a', rule: 'instance-uuid' } as const;
    const b = { hypervisor: 'cmp-b', rule: 'instance-uuid' } as const;
    expect(await s.setNodeHypervisors([{ name: 'w1', to: a }, { name: 'w2', to: a }, { name: 'w3', to: null }, { name: 'gone', to: a }], event)).toEqual(['w1', 'w2']);
    expect((await s.listEvents()).map((e) => [e.subject, e.message])).toEqual([['w1', '- -> cmp-a'], ['w2', '- -> cmp-a']]);
    // the same again: nothing written, no event
    expect(await s.setNodeHypervisors([{ name: 'w1', to: a }, { name: 'w2', to: a }], event)).toEqual([]);
    expect(await s.listEvents()).toHaveLength(2);
    // a move, a rule change and an unmapping are changes
    expect(await s.setNodeHypervisors([{ name: 'w1', to: b }, { name: 'w2', to: { hypervisor: 'cmp-a', rule: 'name' } }], event)).toEqual(['w1', 'w2']);
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: 'cmp-b', hypervisorRule: 'instance-uuid' });
    expect(await s.getNode('w2')).toMatchObject({ hypervisor: 'cmp-a', hypervisorRule: 'name' });
    expect(await s.setNodeHypervisors([{ name: 'w1', to: null }], event)).toEqual(['w1']);
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null, hypervisorRule: null });
    expect((await s.listEvents()).map((e) => e.message).slice(2)).toEqual(['cmp-a -> cmp-b', 'cmp-a -> cmp-a', 'cmp-b -> -']);
    // an event builder may say "no event": the write still happens
    expect(await s.setNodeHypervisors([{ name: 'w3', to: b }], () => null)).toEqual(['w3']);
    expect(await s.listEvents()).toHaveLength(5);
  });

  it('the mapping and its event are one transaction: a failing event writes neither', async () => {
    const s = await openFresh();
    await s.putNode(node('w1'));
    await expect(
      s.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null });
    expect(await s.listEvents()).toEqual([]);
  });

  it('a controller that lost the lead cannot write a mapping; removing a mapped node works', async () => {
    const where = await h.fresh();
    const old = await h.open(where);
    await old.putNode(node('w1'));
    const next = await h.open(where);
    await expect(old.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], event)).rejects.toThrow(/another controller took over/);
    await next.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], event);
    expect(await next.removeNode('w1')).toBe(true);
    expect(await next.getNode('w1')).toBeNull();
    expect(await next.listNodes()).toEqual([]);
  });
});
