// The store contract: tokens, inventory, events, artifacts, generations, rollouts and the fence,
// the same answers from both adapters.
import { expect, it } from 'vitest';
import type { JoinToken } from '../../../../controller/store/store.js';
import { codeOf, describeEachStore } from './harness.js';
import { node, rollout, T0, T1 } from '../../../fixtures/store-records.js';

const LATER = '2026-12-01T12:00:00.000Z';

const token = (over: Partial<JoinToken> = {}): JoinToken => ({
  id: 'tok1', secretHash: 'a'.repeat(64), group: 'workers', labels: { rack: 'r1' },
  expiresAt: '2026-12-01T11:00:00.000Z', createdAt: T0, usedAt: null, usedBy: null, ...over,
});

describeEachStore('store contract', (h) => {
  const openFresh = async () => h.open(await h.fresh());

  it('consumes a join token once; unknown, wrong secret, used and expired are NW_TOKEN', async () => {
    const s = await openFresh();
    await s.addJoinToken(token());
    await s.addJoinToken(token({ id: 'tok2' }));
    expect(await codeOf(s.addJoinToken(token()))).toBe('NW_EXISTS');
    expect(await codeOf(s.consumeJoinToken('nope', 'a'.repeat(64), 'w1', T1))).toBe('NW_TOKEN');
    expect(await codeOf(s.consumeJoinToken('tok1', 'b'.repeat(64), 'w1', T1))).toBe('NW_TOKEN');
    const used = await s.consumeJoinToken('tok1', 'a'.repeat(64), 'w1', T1);
    expect(used).toMatchObject({ group: 'workers', labels: { rack: 'r1' }, usedAt: T1, usedBy: 'w1' });
    expect(await codeOf(s.consumeJoinToken('tok1', 'a'.repeat(64), 'w2', T1))).toBe('NW_TOKEN');
    expect(await codeOf(s.consumeJoinToken('tok2', 'a'.repeat(64), 'w2', LATER))).toBe('NW_TOKEN');
    // the expired token is still unused: the refusal wrote nothing
    expect((await s.consumeJoinToken('tok2', 'a'.repeat(64), 'w2', T1)).usedBy).toBe('w2');
  });

  it('stores, filters, labels and removes nodes', async () => {
    const s = await openFresh();
    await s.putNode(node('w1'));
    await s.putNode(node('w2', { group: 'gpu', labels: { rack: 'r2' } }));
    await s.putNode(node('w3', { labels: { rack: 'r2', zone: 'a' } }));
    await s.putNode(node('W0')); // byte order: upper case first, on both adapters
    expect(await s.getNode('w1')).toEqual(node('w1'));
    expect((await s.listNodes()).map((n) => n.name)).toEqual(['W0', 'w1', 'w2', 'w3']);
    expect((await s.listNodes({ group: 'workers' })).map((n) => n.name)).toEqual(['W0', 'w1', 'w3']);
    expect((await s.listNodes({ labels: { rack: 'r2' } })).map((n) => n.name)).toEqual(['w2', 'w3']);
    expect((await s.listNodes({ names: ['w3', 'w9'] })).map((n) => n.name)).toEqual(['w3']);
    await s.setLabels('w1', { rack: 'r9' });
    expect((await s.getNode('w1'))?.labels).toEqual({ rack: 'r9' });
    expect(await codeOf(s.setLabels('w9', {}))).toBe('NW_NOT_FOUND');
    await s.putNode(node('w1', { url: 'https://127.0.0.2:9443' })); // re-enrollment replaces
    expect((await s.getNode('w1'))?.url).toBe('https://127.0.0.2:9443');
    expect(await s.removeNode('w1')).toBe(true);
    expect(await s.removeNode('w1')).toBe(false);
    expect(await s.getNode('w1')).toBeNull();
  });

  it('observeNode writes only changes and moves healthSince only when the health changes', async () => {
    const s = await openFresh();
    await s.putNode(node('w1'));
    const healthy = { health: 'healthy' as const, reason: null, generation: 3, converged: true, ready: true };
    expect(await s.observeNode('w1', { ...healthy, at: T0 })).toBe(true);
    expect(await s.observeNode('w1', { ...healthy, at: T1 })).toBe(false);
    expect(await s.getNode('w1')).toMatchObject({ health: 'healthy', healthSince: T0, lastSeenAt: T0, generation: 3 });
    expect(await s.observeNode('w1', { ...healthy, generation: 4, at: T1 })).toBe(true);
    expect(await s.getNode('w1')).toMatchObject({ healthSince: T0, generation: 4 });
    expect(await s.observeNode('w1', { ...healthy, health: 'unreachable', reason: 'timeout', at: LATER })).toBe(true);
    expect(await s.getNode('w1')).toMatchObject({ health: 'unreachable', reason: 'timeout', healthSince: LATER, lastSeenAt: T1 });
    expect(await s.observeNode('gone', { ...healthy, at: T1 })).toBe(false);
  });

  it('appends and pages events', async () => {
    const s = await openFresh();
    const a = await s.appendEvent({ at: T0, actor: 'op', kind: 'node.enrolled', subject: 'w1', message: 'enrolled', data: { group: 'g' } });
    const b = await s.appendEvent({ at: T1, actor: 'poller', kind: 'node.health', subject: 'w1', message: 'healthy' });
    expect(typeof a).toBe('number');
    expect(b).toBeGreaterThan(a);
    const all = await s.listEvents();
    expect(all.map((e) => e.kind)).toEqual(['node.enrolled', 'node.health']);
    expect(all[0]).toEqual({ id: a, at: T0, actor: 'op', kind: 'node.enrolled', subject: 'w1', message: 'enrolled', data: { group: 'g' } });
    expect('data' in all[1]).toBe(false);
    expect(await s.listEvents({ afterId: a })).toHaveLength(1);
    expect((await s.listEvents({ limit: 1 }))[0].id).toBe(a);
  });

  it('keeps artifacts by kind and version and refuses other content under one version', async () => {
    const s = await openFresh();
    const art = { kind: 'kubelet-binary' as const, version: 'v2', sha256: 'd'.repeat(64), size: 5 * 2 ** 30, signature: 'sig', addedAt: T0 };
    await s.putArtifact(art);
    await s.putArtifact(art); // same content again is fine
    expect(await s.getArtifact('kubelet-binary', 'v2')).toEqual(art);
    expect(await s.getArtifact('kubelet-binary', 'v3')).toBeNull();
    expect(await codeOf(s.putArtifact({ ...art, sha256: 'e'.repeat(64) }))).toBe('NW_EXISTS');
    expect(await s.listArtifacts()).toEqual([art]);
  });

  it('keeps generations monotonic per node, from what the controller signed only', async () => {
    const s = await openFresh();
    await s.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, []);
    expect(await s.nextGeneration('w1')).toBe(1);
    await s.commitTransition('r1', 0, rollout(1), [{ node: 'w1', generation: 1, desired: { g: 1 }, bundle: { b: 1 }, at: T1 }], []);
    expect(await s.nextGeneration('w1')).toBe(2);
    expect(await s.nextGeneration('w2')).toBe(1);
    // the same generation again: refused, and the whole transition with it
    expect(await codeOf(s.commitTransition('r1', 1, rollout(2), [{ node: 'w1', generation: 1, desired: {}, bundle: {}, at: T1 }], []))).toBe('NW_STALE');
    expect((await s.getRollout('r1'))?.state.version).toBe(1);
    await s.putNode(node('w2'));
    // a generation an agent reports is not the controller's to count from (2^53−1 must not stall signing)
    await s.observeNode('w2', { health: 'healthy', reason: null, generation: 2 ** 53 - 1, converged: true, ready: true, at: T1 });
    expect((await s.getNode('w2'))?.generation).toBe(2 ** 53 - 1);
    expect(await s.nextGeneration('w2')).toBe(1);
    expect([await s.signedGeneration('w1'), await s.signedGeneration('w2')]).toEqual([1, 0]);
    await s.commitTransition('r1', 1, rollout(2), [{ node: 'w1', generation: 2, desired: { g: 2 }, bundle: {}, at: T1 }], []);
    expect(await s.lastDesired('w1')).toMatchObject({ generation: 2, desired: { g: 2 } });
    expect((await s.desiredHistory('w1')).map((d) => d.generation)).toEqual([2, 1]);
    expect(await s.desiredAt('w1', 1)).toEqual({ node: 'w1', generation: 1, desired: { g: 1 }, bundle: { b: 1 }, at: T1 });
    expect(await s.desiredAt('w1', 7)).toBeNull();
    expect(await s.signedGeneration('w1')).toBe(2);
    expect(await s.lastDesired('w9')).toBeNull();
  });

  it('a transition with a wrong expectedVersion changes nothing', async () => {
    const s = await openFresh();
    await s.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, [
      { at: T0, actor: 'op', kind: 'rollout.created', subject: 'r1', message: 'created' },
    ]);
    expect(await codeOf(s.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, []))).toBe('NW_EXISTS');
    const before = (await s.listEvents()).length;
    expect(await codeOf(
      s.commitTransition('r1', 5, rollout(6, 'paused'), [{ node: 'w1', generation: 1, desired: {}, bundle: {}, at: T1 }], [
        { at: T1, actor: 'engine', kind: 'rollout.paused', subject: 'r1', message: 'paused' },
      ]),
    )).toBe('NW_ROLLOUT');
    expect((await s.getRollout('r1'))?.state).toEqual(rollout(0));
    expect(await s.lastDesired('w1')).toBeNull();
    expect(await s.listEvents()).toHaveLength(before);
    expect(await codeOf(s.commitTransition('nope', 0, rollout(1), [], []))).toBe('NW_NOT_FOUND');
    await s.commitTransition('r1', 0, rollout(1, 'paused'), [], [{ at: T1, actor: 'engine', kind: 'rollout.paused', subject: 'r1', message: 'paused' }]);
    expect(await s.getRollout('r1')).toMatchObject({ updatedAt: T1, state: { version: 1, state: 'paused' } });
    expect((await s.listRollouts()).rollouts.map((r) => r.id)).toEqual(['r1']);
  });

  it('a controller that is no longer the leader cannot write; its reads still work', async () => {
    const at = await h.fresh();
    const old = await h.open(at);
    await old.putNode(node('w1'));
    await old.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, []);
    const leader = await h.open(at);
    expect(leader.epoch).toBe(old.epoch + 1);
    const refused = [
      () => old.putNode(node('w2')),
      () => old.observeNode('w1', { health: 'healthy', reason: null, generation: 1, converged: true, ready: true, at: T1 }),
      () => old.appendEvent({ at: T1, actor: 'x', kind: 'k', subject: 's', message: 'm' }),
      () => old.commitTransition('r1', 0, rollout(1), [], []),
      () => old.addJoinToken(token()),
      () => old.removeNode('w1'),
      () => old.setLabels('w1', {}),
      () => old.putArtifact({ kind: 'kubelet-binary', version: 'v1', sha256: 'd'.repeat(64), size: 1, signature: 's', addedAt: T0 }),
      () => old.prune({ eventsMaxAgeMs: 0, eventsMaxCount: 0, generationsPerNode: 0, rolloutDetailMaxAgeMs: 0, rolloutDetailCount: 0, rolloutSummaryCount: 0, batch: 10 }, LATER),
    ];
    for (const fn of refused) expect(await codeOf(fn())).toBe('NW_STATE');
    await expect(old.appendEvent({ at: T1, actor: 'x', kind: 'k', subject: 's', message: 'm' })).rejects.toThrow(/another controller took over/);
    expect((await leader.listNodes()).map((n) => n.name)).toEqual(['w1']);
    expect((await leader.getNode('w1'))?.health).toBe('unknown');
    expect(await leader.listEvents()).toEqual([]);
    expect((await leader.getRollout('r1'))?.state.version).toBe(0);
    expect(await leader.listArtifacts()).toEqual([]);
    await leader.putNode(node('w2'));
    expect(await old.getNode('w2')).not.toBeNull(); // reads still work for the old one
  });

  it('keeps everything after close and reopen', async () => {
    const at = await h.fresh();
    const s = await h.open(at);
    await s.addJoinToken(token());
    await s.putNode(node('w1'));
    await s.appendEvent({ at: T0, actor: 'op', kind: 'k', subject: 'w1', message: 'm' });
    await s.putArtifact({ kind: 'kubelet-binary', version: 'v2', sha256: 'd'.repeat(64), size: 10, signature: 'sig', addedAt: T0 });
    await s.createRollout({ id: 'r1', state: rollout(0), createdAt: T0, updatedAt: T0 }, []);
    await s.commitTransition('r1', 0, rollout(1), [{ node: 'w1', generation: 1, desired: { a: 1 }, bundle: { b: 1 }, at: T1 }], []);
    await s.close();
    const r = await h.open(at);
    expect(await r.getNode('w1')).toEqual(node('w1'));
    expect(await r.listEvents()).toHaveLength(1);
    expect((await r.getArtifact('kubelet-binary', 'v2'))?.size).toBe(10);
    expect((await r.getRollout('r1'))?.state).toEqual(rollout(1));
    expect((await r.lastDesired('w1'))?.bundle).toEqual({ b: 1 });
    expect((await r.consumeJoinToken('tok1', 'a'.repeat(64), 'w1', T1)).usedBy).toBe('w1');
  });

  it('insertNode enrols a name once: the node, the token\'s use and the event in one transaction', async () => {
    const s = await openFresh();
    await s.addJoinToken(token());
    await s.addJoinToken(token({ id: 'tok2' }));
    const ev = (n: string) => ({ at: T1, actor: 'join-token:tok1', kind: 'node.enrolled', subject: n, message: `${n} enrolled` });
    // checkJoinToken is a read: it spends nothing
    expect((await s.checkJoinToken('tok1', 'a'.repeat(64), T1)).group).toBe('workers');
    expect(await codeOf(s.checkJoinToken('tok1', 'b'.repeat(64), T1))).toBe('NW_TOKEN');
    expect(await codeOf(s.checkJoinToken('tok1', 'a'.repeat(64), LATER))).toBe('NW_TOKEN');
    await s.insertNode(node('w1', { certNotAfter: LATER }), { id: 'tok1', secretHash: 'a'.repeat(64), at: T1 }, [ev('w1')]);
    expect((await s.getNode('w1'))?.certNotAfter).toBe(LATER);
    expect((await s.listEvents()).map((e) => e.kind)).toEqual(['node.enrolled']);
    // the same name with another (valid) token: NW_EXISTS, and that token stays unused, no event
    expect(await codeOf(s.insertNode(node('w1', { group: 'gpu' }), { id: 'tok2', secretHash: 'a'.repeat(64), at: T1 }, [ev('w1')]))).toBe('NW_EXISTS');
    expect((await s.getNode('w1'))?.group).toBe('workers');
    expect((await s.checkJoinToken('tok2', 'a'.repeat(64), T1)).usedAt).toBeNull();
    expect(await s.listEvents()).toHaveLength(1);
    // a spent token: NW_TOKEN, and no node is left behind
    expect(await codeOf(s.insertNode(node('w2'), { id: 'tok1', secretHash: 'a'.repeat(64), at: T1 }, [ev('w2')]))).toBe('NW_TOKEN');
    expect(await s.getNode('w2')).toBeNull();
    // re-enrolment after removal
    await s.removeNode('w1');
    await s.insertNode(node('w1'), { id: 'tok2', secretHash: 'a'.repeat(64), at: T1 }, [ev('w1')]);
    expect(await s.getNode('w1')).not.toBeNull();
  });

  it('two enrolments racing for one join token: exactly one node is enrolled', async () => {
    const s = await openFresh();
    await s.addJoinToken(token());
    const ev = (n: string) => ({ at: T1, actor: 'join-token:tok1', kind: 'node.enrolled', subject: n, message: `${n} enrolled` });
    const tries = await Promise.allSettled(['w1', 'w2', 'w3', 'w4'].map((n) => s.insertNode(node(n), { id: 'tok1', secretHash: 'a'.repeat(64), at: T1 }, [ev(n)])));
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
    for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'NW_TOKEN' });
    expect(await s.listNodes()).toHaveLength(1);
    expect(await s.listEvents()).toHaveLength(1);
  });

  it('renewNodeCert replaces the pinned certificate only while it is still the expected one', async () => {
    const s = await openFresh();
    await s.putNode(node('w1'));
    const ev = { at: T1, actor: 'agent:w1', kind: 'node.cert-renewed', subject: 'w1', message: 'renewed' };
    await s.renewNodeCert('w1', 'c'.repeat(64), { certSha256: 'd'.repeat(64), certNotAfter: LATER }, ev);
    expect(await s.getNode('w1')).toMatchObject({ certSha256: 'd'.repeat(64), certNotAfter: LATER });
    // the old certificate cannot renew again (a second concurrent renewal, or a stolen copy)
    expect(await codeOf(s.renewNodeCert('w1', 'c'.repeat(64), { certSha256: 'e'.repeat(64), certNotAfter: LATER }, ev))).toBe('NW_AUTH');
    expect(await codeOf(s.renewNodeCert('w9', 'c'.repeat(64), { certSha256: 'e'.repeat(64), certNotAfter: LATER }, ev))).toBe('NW_AUTH');
    expect((await s.getNode('w1'))?.certSha256).toBe('d'.repeat(64));
    expect((await s.listEvents()).map((e) => e.kind)).toEqual(['node.cert-renewed']);
  });
});
