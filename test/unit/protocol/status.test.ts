// The status schema: what an agent reports and what the controller accepts. A converged worker's
// status passes; shapes the controller must not read (null steps, unbounded text) do not.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { sampleStatus } from '../../../bench/sim-agents.js';
import { statusProblem } from '../../../controller/fleet/agent-client.js';
import { AgentStatusSchema, STEP_ORDER } from '../../../protocol/status.js';

describe('AgentStatusSchema', () => {
  it('accepts a converged worker\'s status, a fresh agent\'s and a newer agent\'s extra fields', () => {
    expect(Value.Check(AgentStatusSchema, sampleStatus('w1'))).toBe(true);
    const fresh = { ...sampleStatus('w1'), desired: null, lastReconcile: null, steps: [], probes: [], kubelet: {}, recovery: null, inflight: null };
    expect(Value.Check(AgentStatusSchema, fresh)).toBe(true);
    expect(Value.Check(AgentStatusSchema, { ...sampleStatus('w1'), futureField: { x: 1 } })).toBe(true);
    const cert = { notAfter: '2027-01-01T00:00:00.000Z', renewAt: '2026-09-01T00:00:00.000Z', lastRenewalError: { code: 'NW_RATE_LIMIT', message: 'wait 600 s', at: '2026-12-07T14:00:00.000Z' } };
    expect(Value.Check(AgentStatusSchema, { ...sampleStatus('w1'), cert })).toBe(true);
    expect(Value.Check(AgentStatusSchema, { ...sampleStatus('w1'), cert: { ...cert, lastRenewalError: null } })).toBe(true);
    expect(STEP_ORDER).toEqual(['packages', 'keyring', 'unit', 'artifact', 'probes']);
  });

  it('names the first field that does not match', () => {
    expect(statusProblem({ ...sampleStatus('w1'), steps: null })).toBe('/steps: Expected array');
    expect(statusProblem({ ...sampleStatus('w1'), desired: { generation: 1.5, acceptedAt: 'x' } })).toMatch(/^\/desired/);
    expect(statusProblem({ ...sampleStatus('w1'), desired: { generation: 2 ** 53, acceptedAt: 'x' } })).toMatch(/^\/desired/);
    expect(statusProblem({ ...sampleStatus('w1'), steps: [{ ...sampleStatus('w1').steps[0], name: 'rm -rf' }] })).toMatch(/^\/steps\/0\/name/);
    expect(statusProblem('{}')).toBe('/: Expected object');
    expect(statusProblem(null)).toBe('/: Expected object');
    expect(statusProblem({ ...sampleStatus('w1'), cert: { notAfter: null, renewAt: null, lastRenewalError: { code: 'NW_X' } } })).toMatch(/^\/cert\/lastRenewalError/);
  });

  it('bounds every string and array: a valid status is bounded', () => {
    const s = sampleStatus('w1');
    expect(statusProblem({ ...s, lastError: { code: 'NW_X', message: 'm'.repeat(16_385), at: 'x' } })).toMatch(/^\/lastError/);
    expect(statusProblem({ ...s, facts: { ...s.facts, hostname: 'h'.repeat(257) } })).toMatch(/^\/facts\/hostname/);
    expect(statusProblem({ ...s, steps: Array.from({ length: 17 }, () => s.steps[0]) })).toMatch(/^\/steps/);
    expect(statusProblem({ ...s, probes: Array.from({ length: 65 }, () => s.probes[0]) })).toMatch(/^\/probes/);
    expect(statusProblem({ ...s, facts: { ...s.facts, addresses: Array.from({ length: 257 }, () => '10.0.0.1') } })).toMatch(/^\/facts\/addresses/);
  });
});
