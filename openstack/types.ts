// The shapes nodewright prints and serves (stable, independent of the Nova microversion).

export interface HypervisorView {
  id: string;
  hypervisor_hostname: string;
  host_ip: string | null;
  /** service.host: the value GET /servers?host= needs (not hypervisor_hostname). */
  service_host: string | null;
  state: string;
  status: string;
}

export interface ServerView {
  id: string;
  name: string;
  status: string;
  addresses: Record<string, Array<{ addr: string; version?: number; 'OS-EXT-IPS:type'?: string }>>;
  project_id: string;
  /** Flavor name (2.47+ embeds original_name) or flavor id below 2.47. */
  flavor: string;
}

export interface HostView {
  hypervisor: HypervisorView;
  servers: ServerView[];
}
