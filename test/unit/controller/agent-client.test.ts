// The pure parts of the agent client and the poller's judgement of what an agent answers: nothing
// an agent sends can throw, and only a status that matches the protocol can make a node healthy.
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleStatus } from '../../../bench/sim-agents.js';
import { AgentClient, refusalOf, statusOutcome } from '../../../controller/fleet/agent-client.js';
import { identityProblem } from '../../../controller/fleet/agent-tls.js';
import { judge, type PollOutcome } from '../../../controller/fleet/health.js';
import { outcomeOf } from '../../../controller/rollout/executor.js';
import { AgentStatusSchema } from '../../../protocol/status.js';

const converged = (generation = 7) => {
  const s = sampleStatus('w1');
  return { ...s, desired: { ...s.desired!, generation }, lastReconcile: { ...s.lastReconcile!, generation } };
};

describe('a status answer', () => {
  it('200 with a status of this protocol → status; anything else → invalid naming the field', () => {
    expect(statusOutcome(200, JSON.stringify(converged()))).toMatchObject({ kind: 'status' });
    expect(statusOutcome(200, JSON.stringify({ ...converged(), steps: null }))).toEqual({ kind: 'invalid', message: 'status invalid: /steps: Expected array' });
    expect(statusOutcome(200, '{"steps":[')).toEqual({ kind: 'invalid', message: 'status invalid: not JSON' });
    expect(statusOutcome(200, '')).toEqual({ kind: 'invalid', message: 'status invalid: not JSON' });
  });

  it('other codes keep the agent\'s code and message only when they are strings', () => {
    expect(statusOutcome(503, '{"code":"NW_RECOVERING","message":"recovery pass"}')).toEqual({ kind: 'http', status: 503, code: 'NW_RECOVERING', message: 'recovery pass' });
    expect(statusOutcome(500, '{"code":{"x":1},"message":[1]}')).toEqual({ kind: 'http', status: 500 });
    expect(statusOutcome(404, '<html>')).toEqual({ kind: 'http', status: 404 });
  });

  it('an invalid status makes the node degraded with that reason, never healthy', () => {
    const o = statusOutcome(200, JSON.stringify({ steps: null }));
    expect(judge(o, 't', undefined, 10)).toMatchObject({ health: 'degraded', reason: 'status invalid: /agent: Expected required property', converged: false, ready: false });
  });

  it('random JSON answered with 200 never throws and is healthy only when it is a valid, converged status', () => {
    const valid = converged(3);
    // hostile shapes: arbitrary JSON, and the valid status with one field replaced by arbitrary JSON
    const mutated = fc.tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue()).map(([k, v]) => ({ ...valid, [k]: v }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated), fc.integer({ min: 0, max: 10 }), (body, signed) => {
        const o = statusOutcome(200, JSON.stringify(body));
        const obs = judge(o, 't', undefined, signed);
        if (obs.health === 'healthy') expect(Value.Check(AgentStatusSchema, body)).toBe(true);
        expect(obs.reason === null || obs.reason.length <= 1024).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('judge() itself never throws, even on a status that skipped the schema check', () => {
    fc.assert(
      fc.property(fc.anything(), (status) => {
        expect(() => judge({ kind: 'status', status } as PollOutcome, 't', undefined, 5)).not.toThrow();
      }),
      { numRuns: 500 },
    );
    expect(judge({ kind: 'status', status: { desired: { generation: 1 }, lastReconcile: { generation: 1 }, steps: null } } as unknown as PollOutcome, 't', undefined, 5))
      .toMatchObject({ health: 'degraded', reason: expect.stringMatching(/^status invalid: /) });
  });
});

describe('generations an agent reports', () => {
  it('one the controller never signed: degraded, not kept, nothing healthy', () => {
    const prev = judge({ kind: 'status', status: converged(3) }, 't0', undefined, 3);
    expect(prev).toMatchObject({ health: 'healthy', generation: 3 });
    const huge = judge({ kind: 'status', status: converged(2 ** 53 - 1) }, 't1', prev, 3);
    expect(huge).toEqual({ health: 'degraded', reason: `reports generation ${2 ** 53 - 1} the controller never signed (highest signed 3)`, generation: 3, converged: false, ready: false, at: 't1' });
    expect(judge({ kind: 'status', status: converged(4) }, 't1', undefined, 3)).toMatchObject({ health: 'degraded', generation: null, reason: 'reports generation 4 the controller never signed (highest signed 3)' });
    expect(judge({ kind: 'status', status: converged(4) }, 't1', undefined, 0)).toMatchObject({ health: 'degraded', reason: 'reports generation 4 the controller never signed (highest signed 0)' });
    expect(judge({ kind: 'status', status: converged(3) }, 't1', undefined, 5)).toMatchObject({ health: 'healthy', generation: 3 });
  });

  it('agent text in reasons is bounded and stripped of escapes', () => {
    const s = { ...converged(3), ready: false, lastError: { code: 'NW_X', message: '\x1b[31mboom\x1b[0m\n' + 'y'.repeat(10_000), at: 'x' } };
    const r = judge({ kind: 'status', status: s }, 't', undefined, 3).reason!;
    expect(r.startsWith('NW_X: boom y')).toBe(true);
    expect(Buffer.byteLength(r)).toBeLessThanOrEqual(1024);
    expect(judge({ kind: 'http', status: 500, code: 'NW_\x1b[2J', message: 'x'.repeat(5000) }, 't').reason!.length).toBeLessThanOrEqual(1024);
  });
});

describe('refusals', () => {
  it('are mapped once: replay codes by name, 401/403, the rest NW_PUSH keeping the agent\'s code', () => {
    expect(refusalOf({ status: 409, body: { code: 'NW_STALE', message: 'older' } }, 'agent w1', 'certificate')).toMatchObject({ code: 'NW_STALE', message: 'agent w1 refused the bundle: older' });
    expect(refusalOf({ status: 403, body: { code: 'NW_TARGET', message: 'other group' } }, 'agent w1', 'certificate')).toMatchObject({ code: 'NW_TARGET' });
    expect(refusalOf({ status: 401, body: {} }, 'agent http://x', 'token')).toMatchObject({ code: 'NW_AUTH', message: expect.stringMatching(/refused the token: use the token file/) });
    expect(refusalOf({ status: 403, body: { code: 'NW_FORBIDDEN', message: 'role agent' } }, 'agent w1', 'certificate')).toMatchObject({ code: 'NW_FORBIDDEN', message: 'agent w1: role agent' });
    const sig = refusalOf({ status: 400, body: { code: 'NW_SIGNATURE', message: 'bad' } }, 'agent w1', 'certificate');
    expect(sig).toMatchObject({ code: 'NW_PUSH', message: 'agent w1 refused the bundle (400): NW_SIGNATURE bad', details: { agentCode: 'NW_SIGNATURE', httpStatus: 400 } });
    expect(refusalOf({ status: 500, body: { code: 'rm -rf', message: '\x1b[31m' + 'x'.repeat(9000) } }, 'agent w1', 'certificate').message.length).toBeLessThan(1100);
  });

  it('the executor counts the agent\'s own refusal codes as definite', () => {
    expect(outcomeOf(refusalOf({ status: 400, body: { code: 'NW_SIGNATURE' } }, 'agent w1', 'certificate'))).toMatchObject({ ok: false, definite: true });
    expect(outcomeOf(refusalOf({ status: 409, body: { code: 'NW_STALE' } }, 'agent w1', 'certificate'))).toMatchObject({ definite: true });
    expect(outcomeOf(refusalOf({ status: 502, body: {} }, 'agent w1', 'certificate'))).toMatchObject({ definite: false });
    expect(outcomeOf(new Error('no complete answer within 30000 ms'))).toMatchObject({ definite: false });
  });
});

describe('the enrolled certificate', () => {
  const peer = (cn: string, role: string, fingerprint256: string) => ({ subject: { CN: cn, O: `nodewright:${role}` }, fingerprint256 }) as never;
  const w1 = { name: 'w1', certSha256: 'abcd01' };

  it('is pinned: name, role and the sha256 recorded at enrollment', () => {
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:01'), w1)).toBeNull();
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:02'), w1)).toMatch(/^the agent's certificate \(sha256 abcd02…\) is not the one enrolled for w1 \(sha256 abcd01…\)/);
    expect(identityProblem(peer('w2', 'agent', 'AB:CD:01'), w1)).toMatch(/is for agent w2, not the enrolled node w1/);
    expect(identityProblem(peer('w1', 'controller', 'AB:CD:01'), w1)).toMatch(/is for controller w1/);
    expect(identityProblem({} as never, w1)).toMatch(/no nodewright identity/);
  });

  it('after a renewal the replaced certificate passes only until the handover ends', () => {
    const renewed = { name: 'w1', certSha256: 'abcd02', previousCertSha256: 'abcd01', previousUntil: Date.now() + 60_000 };
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:02'), renewed)).toBeNull();
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:01'), renewed)).toBeNull();
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:03'), renewed)).toMatch(/not the one enrolled/);
    expect(identityProblem(peer('w1', 'agent', 'AB:CD:01'), { ...renewed, previousUntil: Date.now() - 1 })).toMatch(/not the one enrolled for w1/);
  });

  it('an enrolled node is never reached without TLS', async () => {
    await expect(new AgentClient().call({ url: 'http://127.0.0.1:9', node: w1 }, { method: 'GET', path: '/v1/status', maxBytes: 1024, deadlineMs: 1000 }))
      .rejects.toThrow(/enrolled node w1 has a non-https address/);
  });
});
