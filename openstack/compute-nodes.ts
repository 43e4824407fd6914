// "Which VMs run on the physical host with IP X?": resolve an IP (through the host_ip index)
// or a hostname (2.53 hypervisor_hostname_pattern, exact match preferred) to one hypervisor,
// then list its servers by service.host. (Workers → hypervisors: worker-map.ts.)
import { isIP } from 'node:net';
import { NwError } from '../host/errors.js';
import type { HypervisorIndex } from './hypervisor-index.js';
import { FEATURE_MIN, supports } from './microversion.js';
import type { NovaClient } from './nova.js';
import type { HostView, HypervisorView } from './types.js';

export class ComputeNodes {
  constructor(
    readonly nova: NovaClient,
    readonly index: HypervisorIndex,
  ) {}

  /** Every hypervisor, freshly read (also re-warms the index). */
  async listHypervisors(): Promise<HypervisorView[]> {
    return (await this.index.refresh()).hypervisors;
  }

  async findByHostIp(ip: string): Promise<HypervisorView[]> {
    if (!isIP(ip)) throw new NwError('NW_USAGE', `'${ip}' is not an IP address`);
    return this.index.byHostIp(ip);
  }

  async resolve(ipOrHostname: string): Promise<HypervisorView> {
    const key = ipOrHostname.trim();
    if (!key) throw new NwError('NW_USAGE', 'give a hypervisor host IP or hostname');
    if (isIP(key)) {
      const hits = await this.index.byHostIp(key);
      if (hits.length === 0) {
        throw new NwError('NW_NOT_FOUND', `no hypervisor has host_ip ${key} (checked ${this.index.snapshot()?.hypervisors.length ?? 0} hypervisors); check the IP with 'nodewright hypervisors ls'`, { host_ip: key });
      }
      if (hits.length > 1) {
        throw new NwError('NW_AMBIGUOUS', `${hits.length} hypervisors share host_ip ${key}: ${hits.map((h) => h.hypervisor_hostname).join(', ')}; use the hostname instead`, { host_ip: key });
      }
      return hits[0];
    }
    return pickByHostname(key, await this.hostnameCandidates(key));
  }

  async show(ipOrHostname: string): Promise<HostView> {
    const hypervisor = await this.resolve(ipOrHostname);
    const host = hypervisor.service_host ?? hypervisor.hypervisor_hostname;
    const servers = await this.nova.listServersOnHost(host);
    return { hypervisor, servers };
  }

  private async hostnameCandidates(name: string): Promise<HypervisorView[]> {
    if (supports(this.nova.microversion, FEATURE_MIN.hypervisorHostnamePattern)) {
      return this.nova.hypervisorsByHostnamePattern(name);
    }
    // below 2.53 the pattern parameter is silently ignored: filter the (indexed) detail list ourselves
    return (await this.index.all()).filter((h) => h.hypervisor_hostname.includes(name) || h.service_host === name);
  }
}

/** Exact hostname (or service host) match wins; otherwise one substring match; else a coded error. */
export function pickByHostname(name: string, candidates: HypervisorView[]): HypervisorView {
  const exact = candidates.filter((h) => h.hypervisor_hostname === name || h.service_host === name);
  const pool = exact.length ? exact : candidates;
  if (pool.length === 1) return pool[0];
  if (pool.length === 0) {
    throw new NwError('NW_NOT_FOUND', `no hypervisor hostname matches '${name}'; check it with 'nodewright hypervisors ls'`, { hostname: name });
  }
  throw new NwError('NW_AMBIGUOUS', `'${name}' matches ${pool.length} hypervisors: ${pool.map((h) => h.hypervisor_hostname).join(', ')}; give the full hostname or the host IP`, { hostname: name });
}
