// The status a real agent builds (Agent.status(), what GET /v1/status serialises) matches the
// protocol's schema, the one the controller checks every poll against: before any desired state and
// after a keyring reconcile (steps changed, skipped and not-configured).
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadAgentConfig } from '../../../agent/config.js';
import { createLogger } from '../../../agent/log.js';
import { statusProblem } from '../../../controller/fleet/agent-client.js';
import { AgentStatusSchema } from '../../../protocol/status.js';
import { desiredKeyringOnly, sandbox, type Sandbox } from './fixture.js';

describe('a real agent\'s status matches the protocol schema', () => {
  let sb: Sandbox;
  let agent: Agent;

  beforeAll(async () => {
    sb = await sandbox();
    agent = await Agent.create(await loadAgentConfig(sb.config, 'w1'), createLogger('silent'));
  });
  afterAll(async () => {
    await agent?.reconciler.idle();
    sb?.cleanup();
  });

  it('before any desired state', () => {
    const s = JSON.parse(JSON.stringify(agent.status()));
    expect(statusProblem(s)).toBeNull();
    expect(s.desired).toBeNull();
  });

  it('after accepting and reconciling a keyring-only bundle', async () => {
    await agent.accept(sb.sign(desiredKeyringOnly(3)));
    await agent.reconcile('desired');
    const s = JSON.parse(JSON.stringify(agent.status()));
    expect(statusProblem(s)).toBeNull();
    expect(Value.Check(AgentStatusSchema, s)).toBe(true);
    expect(s.desired.generation).toBe(3);
    expect(s.steps.length).toBeGreaterThan(0);
  });
});
