// `hosts map --agent URL…`: the workers' facts from their agents' GET /v1/status, through the agent
// client (bounded, deadlined): https with a fleet client certificate, or http (loopback) with the token.
import { NwError } from '../../host/errors.js';
import { workerFromStatus, type StatusLike } from '../../openstack/worker-facts.js';
import type { WorkerInput } from '../../openstack/worker-map.js';
import { AgentClient, STATUS_MAX_BYTES } from '../fleet/agent-client.js';
import type { AgentCredentials } from '../push.js';

export async function workersFromAgents(urls: string[], creds: AgentCredentials, timeoutMs = 10_000): Promise<WorkerInput[]> {
  const client = new AgentClient();
  return Promise.all(
    urls.map(async (url) => {
      let r;
      try {
        r = await client.call({ url, token: creds.token, tls: creds.tls }, { method: 'GET', path: '/v1/status', maxBytes: STATUS_MAX_BYTES, deadlineMs: timeoutMs });
      } catch (e) {
        throw new NwError('NW_PUSH', `agent ${url} is not reachable (${(e as Error).message}); check the URL, --ca/--cert/--key for https agents, and that nodewright-agent runs`);
      }
      if (r.status === 401) throw new NwError('NW_AUTH', `agent ${url} refused the credentials: https agents need --ca, --cert and --key (controller or operator role), loopback ones --token-file`);
      if (r.status === 403) throw new NwError('NW_FORBIDDEN', `agent ${url} refused the client certificate's role: use a controller or operator certificate`);
      if (r.status !== 200 || !r.body || typeof r.body !== 'object') throw new NwError('NW_PUSH', `agent ${url} answered ${r.status} to GET /v1/status`);
      return workerFromStatus(r.body as StatusLike, url);
    }),
  );
}
