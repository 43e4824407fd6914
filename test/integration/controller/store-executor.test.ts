// The executor against a real SQLite store, with fake agents standing in for POST /v1/desired
// (they accept newer generations, treat the same one as a no-op, refuse older ones) and report
// their health into the store and the executor's fleet view as the poller would. A restarted
// executor's view is loaded from the store only.
import { afterEach, describe, expect, it } from 'vitest';
import { FleetView } from '../../../controller/fleet/view.js';
import { RolloutExecutor } from '../../../controller/rollout/executor.js';
import type { PushOutcome, RolloutState } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import type { NodeRecord } from '../../../controller/store/store.js';
import { NwError } from '../../../host/errors.js';
import { tempDir } from '../../tmp.js';

interface FakeAgent { generation: number; accepted: number[]; bad: Set<number>; hang: boolean; receivedBeforeHang: boolean; content: unknown }

const now = (): string => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Fleet {
  store!: SqliteStore;
  view!: FleetView;
  /** false: observations reach only the view, as polls that change nothing do. */
  reportToStore = true;
  readonly agents = new Map<string, FakeAgent>();
  readonly pushes: Array<{ node: string; generation: number }> = [];
  /** The desired state of every push, as sent. */
  readonly sent: Array<{ generation: number; notAfter?: string }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly dir: string) {}
  async open(): Promise<void> {
    this.store = openSqliteStore({ stateDir: this.dir });
    this.view = await FleetView.fromStore(this.store);
  }
  async enroll(name: string): Promise<void> {
    const at = now();
    await this.store.putNode({
      name, group: 'workers', labels: {}, url: `https://127.0.0.1:1/${name}`, certSha256: 'c'.repeat(64),
      facts: { hostname: name, addresses: ['127.0.0.1'] }, enrolledAt: at,
      health: 'unknown', reason: null, healthSince: at, lastSeenAt: null, generation: null, converged: false, ready: false,
    });
    this.view.sync(await this.store.listNodes());
    // the state the node holds before the rollout (generation 1)
    this.agents.set(name, { generation: 1, accepted: [], bad: new Set(), hang: false, receivedBeforeHang: false, content: { kubelet: 'v1' } });
  }
  async report(name: string): Promise<void> {
    const a = this.agents.get(name)!;
    const ok = !a.bad.has(a.generation);
    const obs = { health: ok ? 'healthy' : 'degraded', reason: ok ? null : 'probe rbd failed', generation: a.generation, converged: true, ready: ok, at: now() } as const;
    if (this.reportToStore) await this.store.observeNode(name, obs);
    this.view.observe(name, obs);
  }
  push = async (node: NodeRecord, bundle: unknown): Promise<PushOutcome> => {
    const a = this.agents.get(node.name)!;
    const d = (bundle as { desired: { generation: number } }).desired;
    this.pushes.push({ node: node.name, generation: d.generation });
    this.sent.push(d);
    const accept = () => {
      if (d.generation < a.generation) throw new NwError('NW_STALE', `generation ${d.generation} is older than ${a.generation}`);
      if (d.generation > a.generation) {
        a.generation = d.generation;
        a.accepted.push(d.generation);
        a.content = d;
      }
    };
    if (a.hang) {
      if (a.receivedBeforeHang) accept();
      return new Promise<PushOutcome>(() => undefined); // the controller dies before the answer
    }
    accept();
    const t = setTimeout(() => {
      this.timers.delete(t);
      // a rejection: the store of a controller that was replaced
      this.report(node.name).catch(() => undefined);
    }, 30);
    this.timers.add(t);
    return { ok: true };
  };
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.store.close();
  }
}

const strategy = (over: Record<string, string> = {}) => parseStrategy({ steps: '1,2', minHealthy: '0.2s', gateTimeout: '2s', ...over });
const template = { runtime: 'rkt', kubelet: { kind: 'image', version: 'v2', tag: 'v2' } };

const fleets: Fleet[] = [];
const executors: RolloutExecutor[] = [];
afterEach(async () => {
  for (const e of executors.splice(0)) e.stop();
  for (const f of fleets.splice(0)) await f.close();
});

async function setUp(names: string[]): Promise<Fleet> {
  const f = new Fleet(tempDir('nw-exec-'));
  await f.open();
  fleets.push(f);
  for (const n of names) await f.enroll(n);
  // generation 1 was signed by the controller before: the rollback source
  await f.store.createRollout({ id: 'seed', state: { ...seedState(), id: 'seed' }, createdAt: now(), updatedAt: now() }, []);
  await f.store.commitTransition('seed', 0, { ...seedState(), id: 'seed', version: 1 }, names.map((n) => ({
    node: n, generation: 1, desired: { schema: 1, generation: 1, nodeGroup: 'workers', nodes: [n], runtime: 'rkt', kubelet: { kind: 'image', version: 'v1', tag: 'v1' } }, bundle: {}, at: now(),
  })), []);
  for (const n of names) await f.report(n);
  return f;
}

function seedState(): RolloutState {
  return { id: 'seed', version: 0, target: 'seed', strategy: strategy(), nodes: [], waveCount: 0, wave: 0, state: 'completed', reason: null, failures: 0, failureBudget: 0, maxUnavailable: 1, soakUntil: null, rollingBack: false, desired: null, createdAt: now(), updatedAt: now() };
}

function executor(f: Fleet, errors: unknown[] = [], clock: () => string = now, bundleValidMs?: number): RolloutExecutor {
  const e = new RolloutExecutor({
    store: f.store, view: f.view, push: f.push, now: clock, tickMs: 20, bundleValidMs,
    sign: (desired) => ({ kind: 'test-bundle', desired }),
    onError: (err) => errors.push(err),
  });
  executors.push(e);
  return e;
}

async function until(f: Fleet, id: string, states: string[], ms = 15_000): Promise<RolloutState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = (await f.store.getRollout(id))!.state;
    if (states.includes(s.state)) return s;
    if (Date.now() > end) throw new Error(`rollout ${id} is ${s.state} (${s.reason}), not ${states.join('|')}`);
    await sleep(20);
  }
}

describe('rollout executor with a real SQLite store', () => {
  it('rolls out over three nodes: every transition recorded, every agent accepts the target once', async () => {
    const f = await setUp(['w1', 'w2', 'w3']);
    const errors: unknown[] = [];
    const ex = executor(f, errors);
    await ex.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes({ group: 'workers' }), strategy: strategy(), desired: template, actor: 'op' });
    const s = await until(f, 'r1', ['completed', 'paused', 'halted']);
    expect(s.state).toBe('completed');
    expect(errors).toEqual([]);
    for (const [, a] of f.agents) expect(a.accepted).toEqual([2]);
    const d = (await f.store.lastDesired('w2'))!;
    expect(d).toMatchObject({ generation: 2, desired: { schema: 1, generation: 2, nodeGroup: 'workers', nodes: ['w2'], kubelet: { version: 'v2' } } });
    expect(d.bundle).toEqual({ kind: 'test-bundle', desired: d.desired });
    const kinds = (await f.store.listEvents()).map((e) => `${e.kind} ${e.subject}`);
    expect(kinds).toContain('rollout.created r1');
    expect(kinds.filter((k) => k.startsWith('rollout.node.healthy'))).toHaveLength(3);
    expect(kinds[kinds.length - 1]).toBe('rollout.completed r1');
  });

  it('gates are judged from the fleet view the poller feeds, not from store rows', async () => {
    const f = await setUp(['w1', 'w2']);
    f.reportToStore = false;
    const ex = executor(f);
    await ex.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy(), desired: template, actor: 'op' });
    expect((await until(f, 'r1', ['completed', 'paused', 'halted'])).state).toBe('completed');
    // the store still says generation 1 (nothing wrote the new observations there)
    expect((await f.store.getNode('w1'))!.generation).toBe(1);
  });

  it('a node removed before its push counts as a refused push; the rest of the rollout is unaffected', async () => {
    const f = await setUp(['w1', 'w2', 'w3']);
    const errors: unknown[] = [];
    const ex = executor(f, errors);
    const nodes = await f.store.listNodes();
    await f.store.removeNode('w3');
    f.view.sync(await f.store.listNodes()); // the poller's next inventory refresh
    await ex.create({ id: 'r1', target: 'group workers', nodes, strategy: strategy({ steps: '1', failureBudget: '1', onFailure: 'skip', maxUnavailable: '2' }), desired: template, actor: 'op' });
    // unobserved, w3 counts as unavailable: with maxUnavailable 1 nothing else could start
    const s = await until(f, 'r1', ['completed', 'paused', 'halted']);
    expect(s.state).toBe('completed');
    expect(s.nodes.find((n) => n.name === 'w3')).toMatchObject({ phase: 'failed', reason: expect.stringMatching(/no longer enrolled/) });
    expect(f.agents.get('w3')!.accepted).toEqual([]);
    expect(await f.store.signedGeneration('w3')).toBe(1); // nothing signed for it; its history was purged with it
    expect(errors).toEqual([]);
  });

  it('refuses a second rollout over nodes a running one holds', async () => {
    const f = await setUp(['w1', 'w2']);
    const ex = executor(f);
    Object.assign(f.agents.get('w1')!, { hang: true });
    await ex.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy(), desired: template, actor: 'op' });
    await expect(ex.create({ id: 'r2', target: 'nodes w2', nodes: [(await f.store.getNode('w2'))!], strategy: strategy(), desired: template, actor: 'op' }))
      .rejects.toThrow(/node w2 is in rollout r1 \(running\)/);
    expect(await f.store.getRollout('r2')).toBeNull();
  });

  it('a bad canary is rolled back with a new generation carrying its previous state; the rollout pauses', async () => {
    const f = await setUp(['w1', 'w2', 'w3']);
    const ex = executor(f);
    f.agents.get('w1')!.bad.add(2);
    await ex.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy(), desired: template, actor: 'op' });
    const s = await until(f, 'r1', ['paused', 'completed', 'halted']);
    await ex.idle();
    const settled = await (async () => {
      for (let i = 0; i < 200 && (await f.store.getRollout('r1'))!.state.nodes[0].phase === 'rolling_back'; i++) await sleep(20);
      return (await f.store.getRollout('r1'))!.state;
    })();
    expect(s.state).toBe('paused');
    expect(settled.nodes.find((n) => n.name === 'w1')!.phase).toBe('rolled_back');
    expect(f.agents.get('w1')!.accepted).toEqual([2, 3]);
    expect(await f.store.lastDesired('w1')).toMatchObject({ generation: 3, desired: { generation: 3, kubelet: { version: 'v1' } } });
    expect(f.agents.get('w2')!.accepted).toEqual([]);
    const aborted = await ex.command('r1', { kind: 'abort', actor: 'op' });
    expect(aborted.state).toBe('aborted');
    expect((await f.store.listEvents()).some((e) => e.kind === 'rollout.aborted' && e.actor === 'op')).toBe(true);
  });

  for (const received of [false, true]) {
    it(`a controller killed between a push and its answer resumes (the agent ${received ? 'had' : 'had not'} got it): each node accepts the target once`, async () => {
      const f = await setUp(['w1', 'w2']);
      const errors: unknown[] = [];
      const first = executor(f, errors);
      Object.assign(f.agents.get('w1')!, { hang: true, receivedBeforeHang: received });
      await first.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy({ steps: '1' }), desired: template, actor: 'op' });
      expect((await f.store.getRollout('r1'))!.state.nodes[0]).toMatchObject({ name: 'w1', phase: 'pushing', targetGeneration: 2 });
      if (received) await f.report('w1');
      // "kill -9": the old controller stops, a new one opens the store and takes the epoch
      first.stop();
      const oldStore = f.store;
      await f.open();
      f.agents.get('w1')!.hang = false;
      const second = executor(f, errors);
      const pushesBefore = f.pushes.length;
      await second.start();
      const s = await until(f, 'r1', ['completed', 'paused', 'halted']);
      expect(s.state).toBe('completed');
      expect(f.agents.get('w1')!.accepted).toEqual([2]);
      expect(f.agents.get('w2')!.accepted).toEqual([2]);
      const w1Pushes = f.pushes.slice(pushesBefore).filter((p) => p.node === 'w1');
      expect(w1Pushes).toEqual(received ? [] : [{ node: 'w1', generation: 2 }]);
      // the old controller can no longer write
      await expect(oldStore.appendEvent({ at: now(), actor: 'old', kind: 'x', subject: 'x', message: 'x' })).rejects.toThrow(/another controller took over/);
      await oldStore.close();
      expect(errors).toEqual([]);
    });
  }

  it('every bundle carries notAfter; a push in doubt whose bundle expired is sent as a NEW generation, signed again', async () => {
    const f = await setUp(['w1', 'w2']);
    const errors: unknown[] = [];
    const first = executor(f, errors, now, 3_600_000);
    Object.assign(f.agents.get('w1')!, { hang: true, receivedBeforeHang: false });
    await first.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy({ steps: '1' }), desired: template, actor: 'op' });
    const inDoubt = (await f.store.lastDesired('w1'))!;
    expect(inDoubt).toMatchObject({ generation: 2, desired: { notAfter: expect.stringMatching(/Z$/) } });
    const ttl = Date.parse((inDoubt.desired as { notAfter: string }).notAfter) - Date.now();
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    // the controller is down for two hours: the bundle of generation 2 expired meanwhile
    first.stop();
    await f.store.close();
    await f.open();
    f.agents.get('w1')!.hang = false;
    const later = () => new Date(Date.now() + 2 * 3_600_000).toISOString();
    const second = executor(f, errors, later, 3_600_000);
    const sentBefore = f.sent.length;
    await second.start();
    const s = await until(f, 'r1', ['completed', 'paused', 'halted']);
    expect(s.state).toBe('completed');
    const w1 = f.sent.slice(sentBefore).filter((d) => (d as unknown as { nodes: string[] }).nodes[0] === 'w1');
    expect(w1.map((d) => d.generation)).toEqual([3]);
    expect(Date.parse(w1[0].notAfter!)).toBeGreaterThan(Date.parse(later()));
    expect(f.agents.get('w1')!.accepted).toEqual([3]);
    expect(s.nodes.find((n) => n.name === 'w1')).toMatchObject({ phase: 'healthy', targetGeneration: 3 });
    expect((await f.store.desiredHistory('w1')).map((d) => d.generation)).toEqual([3, 2, 1]);
    expect((await f.store.listEvents()).find((e) => e.kind === 'rollout.node.resigned')).toMatchObject({
      subject: 'w1', message: expect.stringMatching(/generation 2 of w1 expired .* sent again as generation 3/),
    });
    expect(errors).toEqual([]);
  });

  it('a restarted controller rebuilds its timers from the stored deadlines (a waiting soak continues)', async () => {
    const f = await setUp(['w1', 'w2']);
    const first = executor(f);
    await first.create({ id: 'r1', target: 'group workers', nodes: await f.store.listNodes(), strategy: strategy({ steps: '1', soak: '0.5s' }), desired: template, actor: 'op' });
    const waiting = await until(f, 'r1', ['waiting']);
    expect(waiting.soakUntil).not.toBeNull();
    first.stop();
    await f.store.close();
    await f.open();
    const second = executor(f);
    await second.start();
    expect((await until(f, 'r1', ['completed'])).nodes.map((n) => n.phase)).toEqual(['healthy', 'healthy']);
  });
});
