// OpenStack commands: hypervisors ls, hosts show, hosts map, servers boot, volume-types ls, and
// `serve` (the controller HTTP server with the compute-node routes).
// Only what `hosts show` and `hypervisors ls` need is imported here; the other commands load their
// modules in their actions (a `hosts show` reads no Cinder, boot, worker-map or agent-client code: bench P4).
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { loadCloudConfig, type CloudConfig } from '../../openstack/config.js';
import { connectCompute, defaultCacheDir, type ComputeConnection } from '../../openstack/connect.js';
import type { CinderClient } from '../../openstack/cinder.js';
import type { HostView, HypervisorView } from '../../openstack/types.js';
import type { WorkerPlacement } from '../../openstack/worker-map.js';
import type { AgentCredentialFiles } from './files.js';

interface CloudOpts {
  osCloud?: string;
  osComputeApiVersion?: string;
  cache?: boolean;
  json?: boolean;
}

function withCloudOptions(cmd: Command): Command {
  return cmd
    .option('--os-cloud <name>', 'cloud in clouds.yaml (default: $OS_CLOUD, else OS_* variables)')
    .option('--os-compute-api-version <ver>', 'compute microversion to use (default: negotiate the highest)')
    .option('--no-cache', 'ignore the on-disk hypervisor index and version cache');
}

async function connect(o: CloudOpts, memoryOnly = false): Promise<ComputeConnection & { cfg: CloudConfig }> {
  const cfg = loadCloudConfig({ cloud: o.osCloud });
  if (o.osComputeApiVersion) cfg.computeApiVersion = o.osComputeApiVersion;
  const c = await connectCompute(cfg, { cacheDir: memoryOnly || o.cache === false ? undefined : defaultCacheDir() });
  // NODEWRIGHT_TRACE_API_CALLS=1: report how many OpenStack API calls this command made (benchmarks)
  if (process.env.NODEWRIGHT_TRACE_API_CALLS === '1') {
    process.once('exit', () => process.stderr.write(`nodewright: openstack api calls: ${c.session.apiCalls}\n`));
  }
  return { ...c, cfg };
}

async function cinderOf(c: ComputeConnection & { cfg: CloudConfig }): Promise<CinderClient> {
  const { blockStorageEndpoint, CinderClient } = await import('../../openstack/cinder.js');
  return new CinderClient(blockStorageEndpoint(c.cfg, c.session), c.session);
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const hypervisorRow = (h: HypervisorView) => [h.id, h.hypervisor_hostname, h.host_ip ?? '-', h.state, h.status, h.service_host ?? '-'];
const HYPERVISOR_HEADERS = ['ID', 'Hypervisor Hostname', 'Host IP', 'State', 'Status', 'Service Host'];

const networks = (a: HostView['servers'][number]['addresses']) =>
  Object.entries(a)
    .map(([net, list]) => `${net}=${list.map((x) => x.addr).join(',')}`)
    .join('; ') || '-';

function printHost(v: HostView): void {
  const h = v.hypervisor;
  out(`Hypervisor ${h.hypervisor_hostname}  host_ip=${h.host_ip ?? '-'}  service_host=${h.service_host ?? '-'}  state=${h.state}  status=${h.status}  id=${h.id}`);
  out(formatTable(
    ['ID', 'Name', 'Status', 'Networks', 'Project', 'Flavor'],
    v.servers.map((s) => [s.id, s.name, s.status, networks(s.addresses), s.project_id, s.flavor]),
  ));
  out(`${v.servers.length} server(s)`);
}

function printPlacements(m: WorkerPlacement[]): void {
  out(formatTable(
    ['Worker', 'Rule', 'Server', 'Service Host', 'Hypervisor', 'Host IP', 'Why'],
    m.map((x) => [
      x.node,
      x.rule ?? '-',
      x.server ? `${x.server.name} (${x.server.id})` : '-',
      x.service_host ?? '-',
      x.hypervisor?.hypervisor_hostname ?? '-',
      x.hypervisor?.host_ip ?? '-',
      x.error ? `${x.error.code}: ${x.error.message}` : x.tried.map((t) => `${t.rule}: ${t.reason}`).join('; '),
    ]),
  ));
}

export function registerOpenstackCommands(program: Command): void {
  const hypervisors = program.command('hypervisors').description('Nova hypervisors (physical compute hosts)');
  withCloudOptions(hypervisors.command('ls').description('list hypervisors with their Host IP').option('--json', 'print JSON'))
    .action(async (o: CloudOpts) => {
      const c = await connect(o);
      const list = await c.nodes.listHypervisors();
      out(o.json ? JSON.stringify({ hypervisors: list }, null, 2) : formatTable(HYPERVISOR_HEADERS, list.map(hypervisorRow)));
    });

  const hosts = program.command('hosts').description('physical hosts and the VMs on them');
  withCloudOptions(hosts.command('show <ipOrHostname>').description('the hypervisor with this host IP or hostname, and its servers').option('--json', 'print JSON'))
    .action(async (key: string, o: CloudOpts) => {
      const c = await connect(o);
      const v = await c.nodes.show(key);
      if (o.json) out(JSON.stringify(v, null, 2));
      else printHost(v);
    });

  withCloudOptions(
    hosts
      .command('map [ip...]')
      .description('map workers to the server and hypervisor they run on: by instance UUID, then fixed IP, then name')
      .option('--agent <url...>', "agents whose GET /v1/status facts to use, e.g. https://10.0.0.5:7701 (http:// only for loopback agents)")
      .option('--ca <file>', 'fleet CA certificate, to check https agents (with --agent)')
      .option('--cert <file>', 'client certificate (controller or operator role) for https agents')
      .option('--key <file>', 'its private key')
      .option('--token-file <file>', "file holding the bearer token of http (loopback) agents")
      .option('--facts <file>', 'JSON file: an array of agent statuses or of {node, hostname, addresses, instanceUuid}')
      .option('--json', 'print JSON'),
  ).action(async (ips: string[], o: CloudOpts & AgentCredentialFiles & { agent?: string[]; facts?: string }) => {
    const { workersFromFile, workersFromIps } = await import('../../openstack/worker-facts.js');
    const { placeWorkers } = await import('../../openstack/worker-map.js');
    const fromAgents = async (urls: string[]) => {
      const [{ workersFromAgents }, { readAgentCredentials }] = await Promise.all([import('./agent-facts.js'), import('./files.js')]);
      return workersFromAgents(urls, await readAgentCredentials(o));
    };
    const workers = [
      ...workersFromIps(ips),
      ...(o.facts ? await workersFromFile(o.facts) : []),
      ...(o.agent?.length ? await fromAgents(o.agent) : []),
    ];
    if (workers.length === 0) throw new NwError('NW_USAGE', 'give worker IPs, --agent URL(s) or --facts FILE');
    const c = await connect(o);
    const [servers, hypervisors] = await Promise.all([c.nova.listAllServers(), c.nodes.listHypervisors()]);
    const m = placeWorkers(workers, servers, hypervisors);
    if (o.json) out(JSON.stringify({ workers: m }, null, 2));
    else printPlacements(m);
    const bad = m.filter((x) => x.error);
    if (bad.length) {
      throw new NwError(bad.every((b) => b.error!.code === 'NW_NOT_FOUND') ? 'NW_NOT_FOUND' : 'NW_OPENSTACK', `${bad.length} of ${m.length} worker(s) could not be mapped: ${bad.map((b) => b.node).join(', ')}`);
    }
  });

  const volumeTypes = program.command('volume-types').description('Cinder volume types (what servers boot --volume-type accepts)');
  withCloudOptions(volumeTypes.command('ls').description('list volume types with their backend').option('--json', 'print JSON'))
    .action(async (o: CloudOpts) => {
      const c = await connect(o, true);
      const types = await (await cinderOf(c)).listVolumeTypes();
      out(o.json ? JSON.stringify({ volume_types: types }, null, 2) : formatTable(['Name', 'Backend', 'Public', 'ID'], types.map((t) => [t.name, t.backend ?? '-', String(t.is_public), t.id])));
    });

  const servers = program.command('servers').description('Nova servers');
  withCloudOptions(
    servers
      .command('boot <name>')
      .description('boot from a new volume of a Cinder volume type (microversion 2.67; the seed\'s volume_type=ceph-ssd)')
      .requiredOption('--flavor <flavor>', 'flavor id or name')
      .requiredOption('--image <image>', 'image UUID or name the boot volume is created from')
      .option('--boot-volume-size <gib>', 'boot volume size in GiB')
      .option('--volume-size <gib>', 'same as --boot-volume-size')
      .requiredOption('--volume-type <type>', 'Cinder volume type, e.g. ceph-ssd (see volume-types ls)')
      .option('--network <uuid|auto|none>', 'network UUID, "auto" or "none" (default: the cloud\'s default_network in clouds.yaml, else auto)')
      .option('--wait', 'wait until the server is ACTIVE (exit 0) or ERROR (cleaned up, NW_BOOT_FAILED)')
      .option('--wait-timeout <seconds>', 'how long --wait waits', '300')
      .option('--json', 'print one JSON object: id, name, status, host, volume_type, boot_volume'),
  ).action(async (name: string, o: CloudOpts & { flavor: string; image: string; bootVolumeSize?: string; volumeSize?: string; volumeType: string; network?: string; wait?: boolean; waitTimeout: string }) => {
    const sizeArg = o.bootVolumeSize ?? o.volumeSize;
    if (sizeArg === undefined) throw new NwError('NW_USAGE', '--boot-volume-size GiB is required');
    const c = await connect(o, true);
    const { bootServer } = await import('../../openstack/boot.js');
    const r = await bootServer(
      c.nova,
      await cinderOf(c),
      { name, flavorRef: o.flavor, imageRef: o.image, volumeSizeGb: Number(sizeArg), volumeType: o.volumeType, network: o.network ?? c.cfg.defaultNetwork ?? 'auto' },
      { wait: !!o.wait, timeoutMs: Number(o.waitTimeout) * 1000 },
    );
    out(o.json ? JSON.stringify(r, null, 2) : `server ${r.name} ${r.status}: id ${r.id}, host ${r.host ?? '-'}, boot volume ${r.boot_volume?.id ?? '(not yet created)'} (${r.volume_type}), microversion ${r.microversion}`);
  });

  withCloudOptions(
    program
      .command('serve')
      .description('run the controller HTTP API (compute-node routes) until SIGTERM')
      .requiredOption('--listen <host:port>', 'address to listen on, e.g. 127.0.0.1:8080 (port 0 = any free port)'),
  ).action(async (o: CloudOpts & { listen: string }) => {
    // loaded here so the query commands do not pay for fastify's start-up
    const { buildControllerServer, parseListen } = await import('../api/server.js');
    const { host, port } = parseListen(o.listen);
    const c = await connect(o, true);
    const app = await buildControllerServer({ compute: { nodes: c.nodes, session: c.session } });
    const address = await app.listen({ host, port });
    out(`nodewright controller listening on ${address} (compute endpoint ${c.session.endpoint}, microversion ${c.session.microversion})`);
    await new Promise<void>((resolve) => {
      const stop = () => void app.close().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  });
}
