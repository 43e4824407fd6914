// Bounded state on both adapters: keyrings stored once, generation high-water marks, rollout
// summaries and pages, and the retention pass (each kind bounded).
import { expect, it } from 'vitest';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../../../../controller/store/retention.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signBundle, verifyBundle } from '../../../../protocol/bundle.js';
import type { NodeRecord, Store } from '../../../../controller/store/store.js';
import { describeEachStore } from './harness.js';
import { desired, KEYRING, rolloutOf, signGenerations, T0 } from '../../../fixtures/store-records.js';

const DAY = 86_400_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const node = (name: string): NodeRecord => ({
  name, group: 'workers', labels: {}, url: 'https://127.0.0.1:9443', certSha256: 'c'.repeat(64),
  facts: { hostname: name, addresses: ['127.0.0.1'] }, enrolledAt: T0,
  health: 'unknown', reason: null, healthSince: T0, lastSeenAt: null, generation: null, converged: false, ready: false,
});

const keys = generateSigningKeys();
const priv = loadPrivateKey(keys.privateKeyPem);
const pub = loadPublicKey(keys.publicKeyPem);
const sign = (d: unknown) => signBundle(d, priv);
const policy = (over: Partial<RetentionPolicy> = {}): RetentionPolicy => ({ ...DEFAULT_RETENTION, ...over });

describeEachStore('retention', (h) => {
  const openFresh = async () => h.open(await h.fresh());

  it('keyrings are stored once: desired and bundle come back byte-identical and the signature verifies', async () => {
    const where = await h.fresh();
    const s = await h.open(where);
    const bundles = new Map<number, string>();
    await signGenerations(s, 'w1', 3, (d) => {
      const b = sign(d);
      bundles.set((d as { generation: number }).generation, JSON.stringify(b));
      return b;
    });
    await signGenerations(s, 'w2', 2, sign);
    expect(await h.count(where, 'keyrings')).toBe(1);
    const texts = await h.rows(where, `SELECT desired || bundle AS t FROM desired`);
    expect(texts).toHaveLength(5);
    expect(texts.every((r) => !String(r.t).includes('AQBqZ2dk'))).toBe(true);
    for (const d of await s.desiredHistory('w1')) {
      expect(JSON.stringify(d.bundle)).toBe(bundles.get(d.generation));
      expect(verifyBundle(d.bundle, pub)).toMatchObject({ generation: d.generation, ceph: { keyring: KEYRING } });
      expect(d.desired).toEqual(desired('w1', d.generation));
    }
    // another keyring: a second row; removing every node that refers to one removes it
    await signGenerations(s, 'w3', 1, sign, KEYRING.replace('AQBq', 'AQBr'));
    expect(await h.count(where, 'keyrings')).toBe(2);
    await s.removeNode('w3');
    expect(await h.count(where, 'keyrings')).toBe(1);
  });

  it('nodes remove purges the desired history (audit events stay); the next generation stays above the old one', async () => {
    const where = await h.fresh();
    const s = await h.open(where);
    await s.putNode(node('w1'));
    await signGenerations(s, 'w1', 4, sign);
    await s.appendEvent({ at: T0, actor: 'op', kind: 'node.health', subject: 'w1', message: 'm' });
    expect(await s.removeNode('w1')).toBe(true);
    expect(await s.desiredHistory('w1')).toEqual([]);
    expect(await h.count(where, 'desired')).toBe(0);
    expect(await h.count(where, 'keyrings')).toBe(0);
    expect((await s.listEvents()).map((e) => e.subject)).toEqual(['w1']);
    expect(await s.signedGeneration('w1')).toBe(4);
    await s.putNode(node('w1')); // re-enrolled: the worker still holds generation 4
    expect(await s.nextGeneration('w1')).toBe(5);
  });

  it('pruning keeps the last N generations per node, any an active rollout needs, and the high-water mark', async () => {
    const where = await h.fresh();
    const s = await h.open(where);
    await signGenerations(s, 'w1', 12, sign);
    await signGenerations(s, 'w2', 3, sign);
    // an active rollout that would roll w1 back to generation 2
    const active = rolloutOf('ra', ['w1'], T0);
    active.nodes[0] = { ...active.nodes[0], previousGeneration: 2, baseGeneration: 12 };
    await s.createRollout({ id: 'ra', state: active, createdAt: T0, updatedAt: T0 }, []);
    const r = await s.prune(policy({ generationsPerNode: 3 }), T0);
    expect(r.desired).toBe(8); // w1: 1, 3..9 (2 is pinned, 10..12 are the last 3)
    expect((await s.desiredHistory('w1')).map((d) => d.generation)).toEqual([12, 11, 10, 2]);
    expect((await s.desiredHistory('w2')).map((d) => d.generation)).toEqual([3, 2, 1]);
    expect(await s.signedGeneration('w1')).toBe(12);
    expect(await s.nextGeneration('w1')).toBe(13);
    expect(await h.count(where, 'keyrings')).toBe(1);
  });

  it('one pass deletes at most `batch` rows of a kind and says more is left', async () => {
    const s = await openFresh();
    await signGenerations(s, 'w1', 8, sign);
    expect(await s.prune(policy({ generationsPerNode: 2, batch: 4 }), T0)).toMatchObject({ desired: 4, more: true });
    expect(await s.prune(policy({ generationsPerNode: 2, batch: 4 }), T0)).toMatchObject({ desired: 2, more: false });
    expect((await s.desiredHistory('w1')).map((d) => d.generation)).toEqual([8, 7]);
  });

  it('events go by age, then by count (oldest first)', async () => {
    const s = await openFresh();
    for (let i = 0; i < 10; i++) await s.appendEvent({ at: at(i * DAY), actor: 'op', kind: 'k', subject: `e${i}`, message: 'm' });
    const r = await s.prune(policy({ eventsMaxAgeMs: 5 * DAY + 1, eventsMaxCount: 3 }), at(9 * DAY));
    expect(r.events).toBe(7);
    expect((await s.listEvents()).map((e) => e.subject)).toEqual(['e7', 'e8', 'e9']);
  });

  it('expired join tokens, used or not, are removed; live ones stay', async () => {
    const where = await h.fresh();
    const s = await h.open(where);
    const t = (id: string, expiresAt: string) => ({ id, secretHash: 'a'.repeat(64), group: 'g', labels: {}, expiresAt, createdAt: T0, usedAt: null, usedBy: null });
    await s.addJoinToken(t('old', at(DAY)));
    await s.addJoinToken(t('used', at(DAY)));
    await s.consumeJoinToken('used', 'a'.repeat(64), 'w1', at(1000));
    await s.addJoinToken(t('live', at(3 * DAY)));
    expect((await s.prune(policy(), at(2 * DAY))).joinTokens).toBe(2);
    expect(await h.count(where, 'join_tokens')).toBe(1);
    expect((await s.consumeJoinToken('live', 'a'.repeat(64), 'w2', at(2 * DAY))).usedBy).toBe('w2');
  });

  const finished = async (s: Store, id: string, day: number) => {
    const r = rolloutOf(id, ['w1', 'w2'], at(day * DAY));
    await s.createRollout({ id, state: r, createdAt: at(day * DAY), updatedAt: at(day * DAY) }, []);
    const nodes = r.nodes.map((n) => ({ ...n, phase: 'healthy' as const }));
    await s.commitTransition(id, 0, { ...r, version: 1, nodes, state: 'completed', updatedAt: at(day * DAY + 1000) }, [], []);
  };

  it('activeRollouts reads only rollouts still going; listRollouts pages newest first with a cursor', async () => {
    const s = await openFresh();
    for (let i = 0; i < 5; i++) await finished(s, `r${i}`, i);
    await s.createRollout({ id: 'live', state: rolloutOf('live', ['w3'], at(10 * DAY)), createdAt: at(10 * DAY), updatedAt: at(10 * DAY) }, []);
    expect((await s.activeRollouts()).map((r) => r.id)).toEqual(['live']);
    const p1 = await s.listRollouts({ limit: 2 });
    expect(p1.rollouts.map((r) => r.id)).toEqual(['live', 'r4']);
    expect(p1.rollouts[1]).toMatchObject({ state: 'completed', nodes: 2, done: 2, target: 'group workers' });
    const p2 = await s.listRollouts({ limit: 2, cursor: p1.next! });
    expect(p2.rollouts.map((r) => r.id)).toEqual(['r3', 'r2']);
    const p3 = await s.listRollouts({ limit: 2, cursor: p2.next! });
    expect(p3).toEqual({ rollouts: [expect.objectContaining({ id: 'r1' }), expect.objectContaining({ id: 'r0' })], next: null });
    await expect(s.listRollouts({ cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });

  it('rollouts created in the same millisecond page by id, in byte order', async () => {
    const s = await openFresh();
    for (const id of ['b', 'B', 'a', 'A']) await s.createRollout({ id, state: rolloutOf(id, ['w1'], T0), createdAt: T0, updatedAt: T0 }, []);
    const p1 = await s.listRollouts({ limit: 3 });
    const p2 = await s.listRollouts({ limit: 3, cursor: p1.next! });
    expect([...p1.rollouts, ...p2.rollouts].map((r) => r.id)).toEqual(['b', 'a', 'B', 'A']);
  });

  it('finished rollouts keep a summary; their per-node detail goes after a while or beyond a count; the oldest go', async () => {
    const s = await openFresh();
    for (let i = 0; i < 6; i++) await finished(s, `r${i}`, i);
    await s.createRollout({ id: 'live', state: rolloutOf('live', ['w3'], at(0)), createdAt: at(0), updatedAt: at(0) }, []);
    const p = policy({ rolloutDetailCount: 3, rolloutDetailMaxAgeMs: 2 * DAY, rolloutSummaryCount: 4 });
    let r = await s.prune(p, at(6 * DAY));
    while (r.more) r = { ...(await s.prune(p, at(6 * DAY))), rolloutDetails: r.rolloutDetails };
    // r5 is newest and young: detail kept; r4 is within the count and 2 days old: kept; the rest pruned
    expect((await s.getRollout('r5'))!.state.nodes).toHaveLength(2);
    expect((await s.getRollout('r4'))!.pruned).toBeUndefined();
    expect(await s.getRollout('r3')).toMatchObject({ pruned: true, state: { nodes: [], desired: null, state: 'completed' }, summary: { id: 'r3', nodes: 2, done: 2 } });
    expect(await s.getRollout('r1')).toBeNull(); // beyond the 4 finished kept at all
    expect((await s.getRollout('live'))!.state.nodes).toHaveLength(1);
    expect((await s.listRollouts()).rollouts.map((x) => `${x.id}:${x.done}/${x.nodes}`)).toEqual(['r5:2/2', 'r4:2/2', 'r3:2/2', 'r2:2/2', 'live:0/1']);
  });
});
