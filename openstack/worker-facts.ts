// The input of `hosts map`: workers as their agents describe themselves (GET /v1/status facts),
// from live agents (read by controller/commands/agent-facts.ts), from a JSON file of statuses or
// facts, or bare IPs.
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { NwError } from '../host/errors.js';
import type { WorkerInput } from './worker-map.js';

export interface StatusLike {
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
