// controller.yaml: YAML, schema-validated; relative paths are relative to the file's directory.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { NwError } from '../host/errors.js';
import { DEFAULT_LIMITS, type ServerLimits } from './api/limits.js';
import { parseFailureDomainSource, type FailureDomainSource } from './rollout/domains.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from './store/retention.js';

const File = (description: string) => Type.String({ minLength: 1, maxLength: 4096, description });
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const ControllerConfigSchema = Type.Object(
  {
    listen: Type.Optional(
      Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '127.0.0.1:7700', description: 'HOST:PORT (or [IPv6]:PORT) of the controller\'s TLS API.' }),
    ),
    url: Type.Optional(
      Type.String({ pattern: '^https://', description: 'URL agents and operators reach the controller at (artifact downloads name it). Default: https://<listen>.' }),
    ),
    stateDir: File('Directory of the SQLite store (controller.db, WAL) and the artifact blobs (with the PostgreSQL store: nothing shared lives here).'),
    store: Type.Optional(
      Type.String({
        pattern: '^(sqlite|postgres(ql)?://[^\\s]+)$',
        description: 'Where the controller keeps its state: absent or `sqlite` = controller.db in stateDir (one controller); `postgres://USER@HOST:PORT/DB` = PostgreSQL, the HA mode (every controller of the fleet names the same database). The password is never in the URL: storePasswordFile, or PGPASSWORD in the environment.',
      }),
    ),
    storePasswordFile: Type.Optional(File('File holding the PostgreSQL password (0600), for `store: postgres://…`.')),
    name: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'This controller\'s member name in HA status (default: HOST:PORT of its listen address).' }),
    ),
    tls: Type.Object(
      {
        cert: File('The controller\'s certificate (PEM, role controller): TLS server certificate and the client certificate it shows agents.'),
        key: File('Its private key (PEM, 0600).'),
        ca: File('The fleet CA certificate (PEM).'),
      },
      { additionalProperties: false, description: 'Certificates written by `nodewright init`.' },
    ),
    caKeyFile: File('The fleet CA\'s private key: signs the agents\' CSRs at enrollment.'),
    signingKeyFile: File('The ed25519 bundle-signing key (0600): signs every desired state and artifact.'),
    operator: Type.Optional(
      Type.Object(
        {
          roles: Type.Optional(
            Type.Array(Type.Union([Type.Literal('operator'), Type.Literal('controller')]), {
              minItems: 1,
              default: ['operator'],
              description: 'Certificate roles allowed to call the operator API.',
            }),
          ),
        },
        { additionalProperties: false, description: 'Who may call the operator API.' },
      ),
    ),
    poll: Type.Optional(
      Type.Object(
        {
          intervalSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3600, default: 10, description: 'Interval of every node\'s `GET /v1/status` (±10 % jitter).' })),
          rolloutIntervalSec: Type.Optional(
            Type.Number({ minimum: 0.1, maximum: 600, default: 1, description: 'Interval for nodes a rollout is pushing to or gating.' }),
          ),
          timeoutSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 600, default: 5, description: 'Timeout of each poll request.' })),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 256, description: 'Polls in flight at once.' })),
          maxBackoffSec: Type.Optional(
            Type.Number({ minimum: 1, maximum: 86_400, default: 120, description: 'Cap of the doubling delay for unreachable nodes.' }),
          ),
        },
        { additionalProperties: false, description: 'The health poller (keep-alive mutual TLS, ETag/304).' },
      ),
    ),
    openstack: Type.Optional(
      Type.Object(
        {
          cloud: Type.String({ minLength: 1, maxLength: 256, description: 'The cloud\'s name in clouds.yaml.' }),
          computeApiVersion: Type.Optional(Type.String({ pattern: '^2\\.[0-9]{1,3}$', description: 'Nova microversion to ask for. Default: the highest both Nova and nodewright support.' })),
          mapIntervalSec: Type.Optional(
            Type.Number({
              minimum: 1,
              maximum: 86_400,
              description: 'Interval of the hypervisor mapping (one paged all-projects server listing and one hypervisor listing per refresh; also at start, at enrolment and when a node\'s facts change). Default: 300.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'An OpenStack cloud: the daemon\'s API then answers the compute-node routes from Nova, and the controller maps every enrolled node to its hypervisor (its failure domain). Default: none.',
        },
      ),
    ),
    failureDomain: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 330,
        description:
          'What a node\'s failure domain is (shown by `nodes ls`/`show`/`--json` and /metrics; the default of rollouts): `hypervisor` (the Nova compute host the controller mapped it to), `label:KEY` (the value of a node label, e.g. label:topology.kubernetes.io/zone) or `none`. Default: `hypervisor` when `openstack` is set, else `none`.',
      }),
    ),
    join: Type.Optional(
      Type.Object(
        {
          certValidDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: 365, description: 'Lifetime of the agent certificates signed at enrollment and renewal (agents renew at about 2/3 of it).' })),
          certValidSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400, description: 'Lifetime in seconds instead of certValidDays (renewal tests and drills); unset in production.' })),
        },
        { additionalProperties: false, description: 'Enrollment with join tokens.' },
      ),
    ),
    server: Type.Optional(
      Type.Object(
        {
          headersTimeoutSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 600, default: 10, description: 'A client must send a request\'s headers within this (a connection that sends half a request, or nothing, is closed).' })),
          requestTimeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400, default: 300, description: 'A whole request (artifact uploads included) must arrive within this.' })),
          idleTimeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400, default: 120, description: 'A connection with no traffic is closed after this (`events --follow` streams excepted).' })),
          keepAliveTimeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, default: 75, description: 'An idle keep-alive connection between two requests stays open this long.' })),
          maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 4096, description: 'Connections at once; more are closed on accept.' })),
          joinBurst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10, description: '`POST /v1/join` attempts one source address may make at once…' })),
          joinPerMinute: Type.Optional(Type.Number({ minimum: 0.1, maximum: 60_000, default: 10, description: '…and per minute after that (NW_RATE_LIMIT, HTTP 429 with Retry-After).' })),
          renewBurst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 3, description: '`POST /v1/renew` calls one node (by the name in its certificate) may make at once…' })),
          loginPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 20, description: '`GET /ui/login` (dashboard sign-in links) one source address may open per minute (HTTP 429 beyond).' })),
          renewPerHour: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3_600_000, default: 6, description: '…and per hour after that (NW_RATE_LIMIT, HTTP 429 with Retry-After; the agent waits that long before it retries). Unset, never fewer than three per certificate lifetime (`join.certValidSeconds`), so short-lived certificates renew in time.' })),
        },
        { additionalProperties: false, description: 'Limits of the controller\'s HTTPS server.' },
      ),
    ),
    retention: Type.Optional(
      Type.Object(
        {
          eventsMaxAgeDays: Type.Optional(Type.Number({ minimum: 1, maximum: 36_500, default: 90, description: 'Audit events older than this are removed.' })),
          eventsMaxCount: Type.Optional(Type.Integer({ minimum: 1000, maximum: 1e9, default: 1_000_000, description: 'Only the newest this many audit events are kept.' })),
          generationsPerNode: Type.Optional(
            Type.Integer({ minimum: 2, maximum: 10_000, default: 10, description: 'Signed desired states kept per node (any generation an active rollout still needs is kept as well).' }),
          ),
          rolloutDetailDays: Type.Optional(
            Type.Number({ minimum: 0, maximum: 36_500, default: 7, description: 'A finished rollout keeps its per-node detail this long, then only its summary.' }),
          ),
          rolloutDetailCount: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 20, description: 'Only the newest this many finished rollouts keep their per-node detail.' })),
          rolloutCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'Finished rollouts kept at all (as summaries), newest first.' })),
          intervalSec: Type.Optional(Type.Number({ minimum: 10, maximum: 86_400, default: 3600, description: 'Interval of the pruning pass (it also runs at start).' })),
        },
        { additionalProperties: false, description: 'What the store keeps. Expired join tokens are always removed; audit events of removed nodes stay within these bounds.' },
      ),
    ),
    rollouts: Type.Optional(
      Type.Object(
        {
          bundleValidHours: Type.Optional(
            Type.Number({ minimum: 0.1, maximum: 8760, default: 24, description: 'Each rollout bundle carries `notAfter` this far ahead; a push in doubt past it is signed again as a new generation.' }),
          ),
        },
        { additionalProperties: false, description: 'Rollout bundles.' },
      ),
    ),
    ceph: Type.Optional(
      Type.Object(
        {
          clientId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 128, description: 'The controller\'s read-only Ceph client (`mon \'allow r\'`), without `client.`; `nodewright ceph prepare --monitor-id` creates it.' }),
          keyringFile: File('Its keyring (0600; `nodewright ceph prepare --monitor-keyring-out FILE` exports it). Read by `ceph` from the file: the key never goes on a command line.'),
          timeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 600, description: 'Limit of each `ceph` call (connect and answer). Default: 10.' })),
        },
        {
          additionalProperties: false,
          description: 'The controller\'s monitor credential: cephHealth rollout gates read `ceph status` / `ceph health detail` of the cluster a rollout\'s desired state names (its fsid and monHost) with it. Default: none (a cephHealth gate then holds, saying so).',
        },
      ),
    ),
    gates: Type.Optional(
      Type.Object(
        {
          intervalSec: Type.Optional(Type.Number({ minimum: 0.5, maximum: 3600, default: 5, description: 'Interval of the evaluation of each rollout gate while a rollout with gates is going.' })),
          timeoutSec: Type.Optional(Type.Number({ minimum: 0.5, maximum: 600, default: 10, description: 'Deadline of each Prometheus gate call.' })),
        },
        { additionalProperties: false, description: 'Rollout gates (the strategy\'s `gates:`).' },
      ),
    ),
    log: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union(
              LOG_LEVELS.map((l) => Type.Literal(l)),
              { default: 'info', description: 'pino level (keys, tokens and CSRs redacted).' },
            ),
          ),
        },
        { additionalProperties: false, description: 'Logging.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'The controller\'s configuration, controller.yaml (written by `nodewright init`). Relative paths are relative to the file\'s directory.' },
);
type RawConfig = Static<typeof ControllerConfigSchema>;

export interface ControllerConfig {
  file: string;
  listen: { host: string; port: number };
  /** The fleet URL agents and operators use (controller.yaml `url`, else https://<its listen>). */
  url: string;
  stateDir: string;
  /** `sqlite` (controller.db in stateDir) or the PostgreSQL connection of the HA mode. */
  store: { kind: 'sqlite' } | { kind: 'postgres'; url: string; passwordFile: string | null };
  /** This member's name (HA status). */
  name: string;
  tls: { cert: string; key: string; ca: string };
  caKeyFile: string;
  signingKeyFile: string;
  operatorRoles: ('operator' | 'controller')[];
  poll: { intervalMs: number; rolloutIntervalMs: number; timeoutMs: number; concurrency: number; maxBackoffMs: number };
  certValidDays: number;
  retention: RetentionPolicy & { intervalMs: number };
  server: ServerLimits;
  /** Lifetime of a rollout bundle (its `notAfter`). */
  bundleValidMs: number;
  certValidSeconds?: number;
  log: { level: string };
  openstack: { cloud: string; computeApiVersion?: string; mapIntervalMs: number } | null;
  /** The failure-domain source nodes are shown with and rollouts plan by default. */
  failureDomain: FailureDomainSource;
  /** The monitor credential cephHealth gates read the cluster with (null: none configured). */
  ceph: { clientId: string; keyringFile: string; timeoutMs: number } | null;
  gates: { intervalMs: number; timeoutMs: number };
}

/** The hypervisor mapping's default interval (controller.yaml openstack.mapIntervalSec). */
export const DEFAULT_MAP_INTERVAL_MS = 300_000;

export const DEFAULT_LISTEN = '127.0.0.1:7700';

export function splitListen(spec: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec);
  if (!m || Number(m[2]) > 65535) throw new NwError('NW_USAGE', `listen address must be HOST:PORT (e.g. 127.0.0.1:7700), got '${spec}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export const urlOf = (l: { host: string; port: number }) => `https://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;

/** What `controller run` flags change: `--listen` runs one more member of the fleet from the same file. */
export interface ConfigOverrides {
  listen?: string;
}

export function withDefaults(raw: RawConfig, file: string, overrides: ConfigOverrides = {}): ControllerConfig {
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const configured = splitListen(raw.listen ?? DEFAULT_LISTEN);
  // the fleet URL stays the file's (derived from its listen when absent); the member's name and URL follow the override
  const listen = overrides.listen === undefined ? configured : splitListen(overrides.listen);
  return {
    file,
    listen,
    url: raw.url ?? urlOf(configured),
    stateDir: abs(raw.stateDir),
    store: storeOf(raw, file, abs),
    name: raw.name ?? `${listen.host}:${listen.port}`,
    tls: { cert: abs(raw.tls.cert), key: abs(raw.tls.key), ca: abs(raw.tls.ca) },
    caKeyFile: abs(raw.caKeyFile),
    signingKeyFile: abs(raw.signingKeyFile),
    operatorRoles: raw.operator?.roles ?? ['operator'],
    poll: {
      intervalMs: (raw.poll?.intervalSec ?? 10) * 1000,
      rolloutIntervalMs: (raw.poll?.rolloutIntervalSec ?? 1) * 1000,
      timeoutMs: (raw.poll?.timeoutSec ?? 5) * 1000,
      concurrency: raw.poll?.concurrency ?? 256,
      maxBackoffMs: (raw.poll?.maxBackoffSec ?? 120) * 1000,
    },
    certValidDays: raw.join?.certValidDays ?? 365,
    retention: retentionOf(raw.retention),
    server: limitsOf(raw.server, raw.join?.certValidSeconds !== undefined ? raw.join.certValidSeconds * 1000 : (raw.join?.certValidDays ?? 365) * 86_400_000),
    bundleValidMs: (raw.rollouts?.bundleValidHours ?? 24) * 3_600_000,
    ...(raw.join?.certValidSeconds !== undefined ? { certValidSeconds: raw.join.certValidSeconds } : {}),
    log: { level: raw.log?.level ?? 'info' },
    openstack: raw.openstack
      ? { cloud: raw.openstack.cloud, ...(raw.openstack.computeApiVersion ? { computeApiVersion: raw.openstack.computeApiVersion } : {}), mapIntervalMs: raw.openstack.mapIntervalSec !== undefined ? raw.openstack.mapIntervalSec * 1000 : DEFAULT_MAP_INTERVAL_MS }
      : null,
    failureDomain: failureDomainOfConfig(raw, file),
    ceph: raw.ceph ? { clientId: raw.ceph.clientId.replace(/^client\./, ''), keyringFile: abs(raw.ceph.keyringFile), timeoutMs: (raw.ceph.timeoutSec ?? 10) * 1000 } : null,
    gates: { intervalMs: (raw.gates?.intervalSec ?? 5) * 1000, timeoutMs: (raw.gates?.timeoutSec ?? 10) * 1000 },
  };
}

function storeOf(raw: RawConfig, file: string, abs: (p: string) => string): ControllerConfig['store'] {
  if (raw.store === undefined || raw.store === 'sqlite') {
    if (raw.storePasswordFile !== undefined) throw new NwError('NW_CONFIG', `${file}: storePasswordFile is for \`store: postgres://…\`; remove it or name the database`);
    return { kind: 'sqlite' };
  }
  let url: URL;
  try {
    url = new URL(raw.store);
  } catch {
    throw new NwError('NW_CONFIG', `${file}: store: '${raw.store}' is not a URL; write postgres://USER@HOST:PORT/DATABASE`);
  }
  if (url.password) {
    throw new NwError('NW_CONFIG', `${file}: store: the URL carries a password; move it to a file named by storePasswordFile (0600) or to PGPASSWORD in the service environment`);
  }
  return { kind: 'postgres', url: raw.store, passwordFile: raw.storePasswordFile === undefined ? null : abs(raw.storePasswordFile) };
}

function failureDomainOfConfig(raw: RawConfig, file: string): FailureDomainSource {
  if (raw.failureDomain === undefined) return raw.openstack ? 'hypervisor' : 'none';
  let source: FailureDomainSource;
  try {
    source = parseFailureDomainSource(raw.failureDomain, `${file}: failureDomain`);
  } catch (e) {
    throw new NwError('NW_CONFIG', (e as Error).message);
  }
  if (source === 'hypervisor' && !raw.openstack) {
    throw new NwError('NW_CONFIG', `${file}: failureDomain: hypervisor needs \`openstack: { cloud: NAME }\` (the controller maps nodes to hypervisors from Nova); use label:KEY or none without a cloud`);
  }
  return source;
}

/** `certLifetimeMs`: of the agent certificates; a node renews once per 2/3 of it, so the default renewal
 * limit never refills slower than a third of it (short lifetimes in drills must not expire waiting). */
function limitsOf(r: RawConfig['server'] = {}, certLifetimeMs: number): ServerLimits {
  const d = DEFAULT_LIMITS;
  const ms = (sec: number | undefined, dflt: number) => (sec !== undefined ? sec * 1000 : dflt);
  return {
    ...d,
    headersTimeoutMs: ms(r.headersTimeoutSec, d.headersTimeoutMs),
    requestTimeoutMs: ms(r.requestTimeoutSec, d.requestTimeoutMs),
    idleTimeoutMs: ms(r.idleTimeoutSec, d.idleTimeoutMs),
    keepAliveTimeoutMs: ms(r.keepAliveTimeoutSec, d.keepAliveTimeoutMs),
    handshakeTimeoutMs: ms(r.headersTimeoutSec, d.handshakeTimeoutMs),
    maxConnections: r.maxConnections ?? d.maxConnections,
    joinBurst: r.joinBurst ?? d.joinBurst,
    joinRefillMs: r.joinPerMinute !== undefined ? 60_000 / r.joinPerMinute : d.joinRefillMs,
    renewBurst: r.renewBurst ?? d.renewBurst,
    loginPerMinute: r.loginPerMinute ?? d.loginPerMinute,
    renewRefillMs: r.renewPerHour !== undefined ? 3_600_000 / r.renewPerHour : Math.min(d.renewRefillMs, certLifetimeMs / 3),
  };
}

function retentionOf(r: RawConfig['retention'] = {}): RetentionPolicy & { intervalMs: number } {
  const d = DEFAULT_RETENTION;
  return {
    ...d,
    eventsMaxAgeMs: r.eventsMaxAgeDays !== undefined ? r.eventsMaxAgeDays * 86_400_000 : d.eventsMaxAgeMs,
    eventsMaxCount: r.eventsMaxCount ?? d.eventsMaxCount,
    generationsPerNode: r.generationsPerNode ?? d.generationsPerNode,
    rolloutDetailMaxAgeMs: r.rolloutDetailDays !== undefined ? r.rolloutDetailDays * 86_400_000 : d.rolloutDetailMaxAgeMs,
    rolloutDetailCount: r.rolloutDetailCount ?? d.rolloutDetailCount,
    rolloutSummaryCount: r.rolloutCount ?? d.rolloutSummaryCount,
    intervalMs: (r.intervalSec ?? 3600) * 1000,
  };
}

export function parseControllerConfig(text: string, file = 'controller.yaml', overrides: ConfigOverrides = {}): ControllerConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new NwError('NW_CONFIG', `${file}: YAML syntax error: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new NwError('NW_CONFIG', `${file}: the controller config must be a mapping (key: value lines)`);
  const first = Value.Errors(ControllerConfigSchema, raw).First();
  if (first) throw new NwError('NW_CONFIG', `${file}: ${first.path || '/'}: ${first.message}; see docs/controller.md for the config keys`);
  return withDefaults(raw as RawConfig, file, overrides);
}

export async function loadControllerConfig(file: string, overrides: ConfigOverrides = {}): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the controller config ${file} (${(e as NodeJS.ErrnoException).code}): create it with \`nodewright init --dir D\` or pass --config`);
  }
  return parseControllerConfig(text, file, overrides);
}
