// The input of `hosts map`: workers as their agents describe themselves (GET /v1/status facts),
// from live agents, from a JSON file of statuses or facts, or bare IPs. The token comes from a
// file, never argv.
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { NwError } from '../host/errors.js';
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

export async function workersFromAgents(urls: string[], tokenFile?: string, timeoutMs = 10_000): Promise<WorkerInput[]> {
  let token: string | undefined;
  if (tokenFile) {
    token = (await readFile(tokenFile, 'utf8').catch(() => {
      throw new NwError('NW_USAGE', `cannot read the token file ${tokenFile}`);
    })).trim();
  }
  return Promise.all(
    urls.map(async (url) => {
      const target = `${url.replace(/\/+$/, '')}/v1/status`;
      let res: Response;
      try {
        res = await fetch(target, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        throw new NwError('NW_PUSH', `agent ${url} is not reachable (${(e as Error).message}); check the URL and that nodewright-agent runs`);
      }
      if (res.status === 401) throw new NwError('NW_AUTH', `agent ${url} refused the token: pass --token-file with the worker's token`);
      if (!res.ok) throw new NwError('NW_PUSH', `agent ${url} answered ${res.status} to GET /v1/status`);
      return workerFromStatus((await res.json()) as StatusLike, url);
    }),
  );
}
