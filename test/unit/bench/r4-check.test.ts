// R4's judgement (bench/r4-check.ts) on hand-made agent records, rollouts and audit logs: each count can fail.
import { describe, expect, test } from 'vitest';
import { r4Counts, r4Verdict, type AgentRecord, type AuditEvent, type RolloutRecord } from '../../../bench/r4-check.js';

const agent = (name: string, accepted: AgentRecord['accepted'], refusals: AgentRecord['refusals'] = []): AgentRecord => ({ name, accepted, refusals });
const took = (generation: number, marker: string, fresh = 1, same = 0) => ({ generation, marker, fresh, same });
const rollout = (id: string, marker: string, nodes: [string, number][], state = 'completed', confirmed = true): RolloutRecord => ({
  id, marker, confirmed, final: { state, nodes: nodes.map(([name, g]) => ({ name, phase: 'healthy', targetGeneration: g })) },
});
const eventsFor = (r: RolloutRecord): AuditEvent[] => [
  { kind: 'rollout.created', subject: r.id, data: { rollout: r.id } },
  ...r.final!.nodes.flatMap((n) => ['pushing', 'gating', 'healthy'].map((p) => ({ kind: `rollout.node.${p}`, subject: n.name, data: { rollout: r.id, generation: n.targetGeneration } }))),
  { kind: `rollout.${r.final!.state}`, subject: r.id, data: { rollout: r.id } },
];

describe('r4Counts', () => {
  const r1 = rollout('r-1', 'r4-0', [['a', 1], ['b', 1]]);
  const r2 = rollout('r-2', 'r4-1', [['a', 2], ['b', 2]]);
  const agents = [agent('a', [took(1, 'r4-0'), took(2, 'r4-1', 1, 3)]), agent('b', [took(1, 'r4-0'), took(2, 'r4-1')])];
  const events = [...eventsFor(r1), ...eventsFor(r2)];

  test('a clean campaign counts nothing; idempotent re-sends are counted apart and are fine', () => {
    const c = r4Counts(agents, [r1, r2], events);
    expect(c).toMatchObject({ double_pushes: 0, lost: 0, stuck: 0, missing_events: 0, fresh: 4, idempotent: 3 });
    expect(r4Verdict(c, 300)).toEqual({ pass: true, line: 'R4 double_pushes=0 lost=0 stuck=0 kills=300 missing_events=0 (target 0) PASS' });
    expect(r4Verdict(c, 299).pass).toBe(false);
  });

  test('double pushes: one rollout\'s content under two generations, a generation conflict, a generation taken as new twice', () => {
    expect(r4Counts([agent('a', [took(1, 'r4-0'), took(3, 'r4-0'), took(2, 'r4-1')]), agents[1]], [r1, r2], events).double_pushes).toBe(1);
    expect(r4Counts([agents[0], agent('b', agents[1].accepted, [{ code: 'NW_GENERATION_CONFLICT', generation: 2 }])], [r1, r2], events).double_pushes).toBe(1);
    expect(r4Counts([agent('a', [took(1, 'r4-0', 2), took(2, 'r4-1')]), agents[1]], [r1, r2], events).double_pushes).toBe(1);
    // stale refusals are the agent doing its job, not a double push
    expect(r4Counts([agent('a', agents[0].accepted, [{ code: 'NW_STALE', generation: 1 }]), agents[1]], [r1, r2], events).double_pushes).toBe(0);
  });

  test('lost: a confirmed rollout gone from the store, or a healthy node that never accepted its generation', () => {
    expect(r4Counts(agents, [r1, { ...r2, final: null }], events).lost).toBe(1);
    expect(r4Counts(agents, [r1, { ...r2, final: null, confirmed: false }], events).lost).toBe(0);
    expect(r4Counts([agents[0], agent('b', [took(1, 'r4-0')])], [r1, r2], events).lost).toBe(1);
    expect(r4Counts([agents[0], agent('b', [took(1, 'r4-0'), took(2, 'r4-0')])], [r1, r2], events).lost).toBe(1);
  });

  test('stuck: a rollout that did not complete', () => {
    const paused = rollout('r-2', 'r4-1', [['a', 2], ['b', 2]], 'paused');
    expect(r4Counts(agents, [r1, paused], [...eventsFor(r1), ...eventsFor(paused)]).stuck).toBe(1);
  });

  test('missing events: each node phase on the way and the rollout\'s own, tied to the rollout by id', () => {
    const drop = (kind: string, subject: string) => events.filter((e) => !(e.kind === kind && e.subject === subject && e.data?.rollout === 'r-2'));
    expect(r4Counts(agents, [r1, r2], drop('rollout.node.gating', 'b')).missing_events).toBe(1);
    expect(r4Counts(agents, [r1, r2], drop('rollout.completed', 'r-2')).missing_events).toBe(1);
    expect(r4Counts(agents, [r1, r2], drop('rollout.created', 'r-2')).missing_events).toBe(1);
    // r-1's events do not stand in for r-2's
    expect(r4Counts(agents, [r1, r2], eventsFor(r1)).missing_events).toBe(8);
  });
});
