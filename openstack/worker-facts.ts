// The input of `hosts map`: workers as their agents describe themselves (GET /v1/status facts),
// from live agents, from a JSON file of statuses or facts, or bare IPs. The token comes from a
// file, never argv.
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { NwError } from '../host/errors.js';
import { requestJson, type JsonAnswer } from '../host/http-json.js';
import type { WorkerInput } from './worker-map.js';

interface StatusLike {
  agent?: { node?: string };
  facts?: { hostname?: string; addresses?: string[]; instanceUuid?: string };
  node?: string;
  hostname?: string;
  addresses?: string[];
  instanceUuid?: string;
}

/** One worker from an agent status ({agent, facts}) or a bare facts object ({node, hostname, …}). */
export function workerFromStatus(s: StatusLike, source: string): WorkerInput {
  const f = s.facts ?? s;
  const node = s.agent?.node ?? s.node ?? f.hostname;
  if (!node) throw new NwError('NW_USAGE', `${source}: no node name (agent.node, node or facts.hostname)`);
  const addresses = f.addresses ?? [];
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== 'string' || !isIP(a))) {
    throw new NwError('NW_USAGE', `${source}: addresses must be a list of IP addresses`);
  }
  return { node, hostname: f.hostname, addresses, instanceUuid: f.instanceUuid, source };
}

export function workersFromIps(ips: string[]): WorkerInput[] {
  return ips.map((ip) => {
    if (!isIP(ip)) throw new NwError('NW_USAGE', `'${ip}' is not an IP address`);
    return { node: ip, addresses: [ip], source: 'argv' };
  });
}

export async function workersFromFile(file: string): Promise<WorkerInput[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new NwError('NW_USAGE', `${file}: cannot read it as JSON (${(e as Error).message}); give an array of agent statuses or facts`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { workers?: unknown[] })?.workers;
  if (!Array.isArray(list)) throw new NwError('NW_USAGE', `${file}: expected a JSON array (or {"workers": [...]})`);
  return list.map((x, i) => workerFromStatus(x as StatusLike, `${file}[${i}]`));
}

/** Agents' facts from their GET /v1/status: https with a fleet client certificate, or http (loopback) with the token. */
export async function workersFromAgents(urls: string[], creds: { token?: string; tls?: { ca: string; cert: string; key: string } }, timeoutMs = 10_000): Promise<WorkerInput[]> {
  return Promise.all(
    urls.map(async (url) => {
      const target = `${url.replace(/\/+$/, '')}/v1/status`;
      let r: JsonAnswer;
      try {
        r = await requestJson(target, { token: creds.token, ...creds.tls, timeoutMs });
      } catch (e) {
        throw new NwError('NW_PUSH', `agent ${url} is not reachable (${(e as Error).message}); check the URL, --ca/--cert/--key for https agents, and that nodewright-agent runs`);
      }
      if (r.status === 401) throw new NwError('NW_AUTH', `agent ${url} refused the credentials: https agents need --ca, --cert and --key (controller or operator role), loopback ones --token-file`);
      if (r.status === 403) throw new NwError('NW_FORBIDDEN', `agent ${url} refused the client certificate's role: use a controller or operator certificate`);
      if (r.status !== 200 || r.json === null) throw new NwError('NW_PUSH', `agent ${url} answered ${r.status} to GET /v1/status`);
      return workerFromStatus(r.json as StatusLike, url);
    }),
  );
}
