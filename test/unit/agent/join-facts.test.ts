// `nodewright-agent join --instance-uuid`: the Nova server id of a host without a DMI product_uuid
// goes with the join and into agent.yaml (so its status reports the same); a malformed one is refused
// before anything is sent.
import { describe, expect, it } from 'vitest';
import { agentYaml, join, workerFacts } from '../../../agent/commands/join.js';
import { parseAgentConfig } from '../../../agent/config.js';

const U = '5A3C2B1D-0E9F-4A8B-9C7D-6E5F4A3B2C1D';

describe('join --instance-uuid', () => {
  it('wins over the DMI product_uuid at join (lowercased) and lands in agent.yaml as the agent reads it', () => {
    expect(workerFacts(U).instanceUuid).toBe(U.toLowerCase());
    const yaml = agentYaml({ listen: '0.0.0.0:7701', node: 'w1', nodeGroup: 'lab', controller: 'https://10.0.0.2:7700', instanceUuid: U });
    expect(parseAgentConfig(yaml, '/etc/nodewright/agent.yaml').instanceUuid).toBe(U.toLowerCase());
    const without = agentYaml({ listen: '0.0.0.0:7701', node: 'w1', nodeGroup: 'lab', controller: 'https://10.0.0.2:7700' });
    expect(without).not.toContain('instanceUuid');
    expect(parseAgentConfig(without, '/etc/nodewright/agent.yaml').instanceUuid).toBeNull();
  });

  it('a malformed one is NW_USAGE before any connection', async () => {
    await expect(
      join({ controller: 'https://127.0.0.1:1', token: 't', caCertHash: `sha256:${'0'.repeat(64)}`, configOut: '/nonexistent/agent.yaml', listen: '127.0.0.1:7701', name: 'w1', instanceUuid: 'vm-12' }),
    ).rejects.toMatchObject({ code: 'NW_USAGE', message: expect.stringContaining('--instance-uuid') });
  });
});
