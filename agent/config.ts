// /etc/nodewright/agent.yaml: YAML, schema-validated, errors name the line.
import { Type, type Static } from '@sinclair/typebox';
import { Errors } from '@sinclair/typebox/errors';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseCron } from './cron.js';
import { NwError } from '../host/errors.js';

const AbsPath = (o: { description: string; default?: string }) => Type.String({ pattern: '^/', ...o });
/** A file the agent reads: absolute, or relative to the directory of agent.yaml. */
const FilePath = (o: { description: string; default?: string }) => Type.String({ minLength: 1, pattern: '^[^\\n\\x00]+$', ...o });
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const AgentConfigSchema = Type.Object(
  {
    listen: Type.Optional(
      Type.String({
        pattern: '^[^:]+:[0-9]{1,5}$',
        default: '127.0.0.1:7701',
        description: 'HOST:PORT the agent API listens on. A non-loopback address needs `tls:` (NW_CONFIG otherwise).',
      }),
    ),
    tokenFile: Type.Optional(
      FilePath({
        default: '/etc/nodewright/token',
        description: 'Bearer token for the mutating routes when there is no `tls:` (loopback only): at least 16 characters, mode 0600, owned by the agent.',
      }),
    ),
    publicKeyFile: Type.Optional(
      FilePath({ default: '/etc/nodewright/controller.pub', description: 'The fleet\'s ed25519 bundle-signing public key (PEM): only bundles it verifies are accepted.' }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          cert: FilePath({ description: 'The agent\'s server certificate (PEM, fleet CA, role agent).' }),
          key: FilePath({ description: 'Its private key (PEM): mode 0600, owned by the agent.' }),
          ca: FilePath({ description: 'The fleet CA certificate (PEM): client certificates must chain to it.' }),
        },
        {
          additionalProperties: false,
          description: 'Mutual TLS with client certificates of the fleet CA (`nodewright ca issue`, or written by `nodewright-agent join`); mutating routes need role controller or operator.',
        },
      ),
    ),
    controller: Type.Optional(
      Type.String({
        pattern: '^https://[^\\s]+$',
        maxLength: 300,
        description: 'https:// URL of the controller (written by `nodewright-agent join`). With `tls:`, the agent renews its own certificate there at about 2/3 of its lifetime; the server must present the controller role. Default: none (no renewal).',
      }),
    ),
    root: Type.Optional(AbsPath({ default: '/', description: 'Root prefix every managed file lives under (a sandbox directory in tests).' })),
    stateDir: Type.Optional(AbsPath({ default: '/var/lib/nodewright', description: 'state.json (0600), the reconcile lock, backups and the artifact cache.' })),
    node: Type.Optional(Type.String({ minLength: 1, description: 'This node\'s name, which a bundle\'s `nodes` binding must include. Default: the host name.' })),
    nodeGroup: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'This node\'s group, which a bundle\'s `nodeGroup` binding must equal (an agent without one refuses group-bound bundles). Default: none.',
      }),
    ),
    instanceUuid: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        description: 'The Nova server id, overriding /sys/class/dmi/id/product_uuid (for hosts without it); reported in status facts, used by `hosts map`.',
      }),
    ),
    kubelet: Type.Optional(
      Type.Object(
        {
          healthUrl: Type.Optional(Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:10248/healthz', description: 'The kubelet\'s health endpoint the gate polls.' })),
          healthTimeoutSec: Type.Optional(
            Type.Number({ minimum: 0.5, maximum: 3600, default: 60, description: 'Deadline of the health gate after a kubelet restart.' }),
          ),
          restartTimeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, default: 90, description: 'Timeout of `systemctl restart` of the kubelet unit.' })),
          minHealthySec: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 3600,
              default: 10,
              description: 'The kubelet must stay healthy (unit active and healthz 200) this long without a break, within healthTimeoutSec; must be shorter than it.',
            }),
          ),
        },
        { additionalProperties: false, description: 'The kubelet health gate that guards binary and image swaps (failure → rollback).' },
      ),
    ),
    schedule: Type.Optional(
      Type.Object(
        {
          reconcile: Type.Optional(Type.String({ default: '*/5 * * * *', description: 'Cron expression (5 or 6 fields) of the periodic reconcile.' })),
          probes: Type.Optional(Type.String({ default: '*/10 * * * *', description: 'Cron expression (5 or 6 fields) of the periodic Ceph probes.' })),
        },
        { additionalProperties: false, description: 'Periodic runs besides bundles and drift events.' },
      ),
    ),
    drift: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Watch the managed files and repair them when they change.' })),
          debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: '0: the first file event triggers a repair at once and events during it coalesce into one more run; N > 0: wait until the events have been quiet for N ms (trailing debounce).' })),
        },
        { additionalProperties: false, description: 'Drift repair (a file watch on the keyring, ceph.conf, the kubelet unit and binary).' },
      ),
    ),
    probes: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Run the rbd and ceph-fuse quota probes the desired state names.' })),
          timeoutSec: Type.Optional(Type.Number({ minimum: 1, maximum: 600, default: 30, description: 'Timeout of each probe.' })),
        },
        { additionalProperties: false, description: 'Ceph probes against the real cluster.' },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          bodyBytes: Type.Optional(Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'Largest request body the API takes (bytes).' })),
          artifactBytes: Type.Optional(Type.Integer({ minimum: 1, default: 512 * 1024 * 1024, description: 'Largest kubelet artifact the agent downloads (bytes).' })),
          artifactCacheKeep: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 100, default: 2, description: 'Cached kubelet artifacts kept besides the current and the last good one.' }),
          ),
        },
        { additionalProperties: false, description: 'Size limits.' },
      ),
    ),
    log: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union(
              LOG_LEVELS.map((l) => Type.Literal(l)),
              { default: 'info', description: 'pino level (JSON on stderr, pretty on a TTY; keyring, token and authorization redacted).' },
            ),
          ),
        },
        { additionalProperties: false, description: 'Logging.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'The agent\'s configuration, /etc/nodewright/agent.yaml (YAML; errors name the line). Relative file names are relative to the directory of agent.yaml.' },
);
type RawConfig = Static<typeof AgentConfigSchema>;

export interface AgentTls {
  cert: string;
  key: string;
  ca: string;
}

export interface AgentConfig {
  file: string | null;
  listen: { host: string; port: number };
  tokenFile: string;
  publicKeyFile: string;
  /** Absolute paths; null = plain HTTP with the bearer token (loopback only). */
  tls: AgentTls | null;
  /** The controller the agent renews its certificate with; null = no renewal. */
  controller: string | null;
  root: string;
  stateDir: string;
  node: string;
  nodeGroup: string | null;
  instanceUuid: string | null;
  kubelet: { healthUrl: string; healthTimeoutMs: number; restartTimeoutMs: number; minHealthyMs: number };
  schedule: { reconcile: string; probes: string };
  drift: { enabled: boolean; debounceMs: number };
  probes: { enabled: boolean; timeoutMs: number };
  limits: { bodyBytes: number; artifactBytes: number; artifactCacheKeep: number };
  log: { level: string };
}

export const DEFAULT_CONFIG_PATH = '/etc/nodewright/agent.yaml';

/** 127.0.0.0/8, ::1 and localhost: the only addresses where the bearer token may stand in for TLS. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function withDefaults(raw: RawConfig, file: string | null, hostname = 'localhost'): AgentConfig {
  const [host, port] = (raw.listen ?? '127.0.0.1:7701').split(':');
  // Relative file names are relative to the directory of agent.yaml, not the cwd of whoever starts us.
  const base = file ? path.dirname(path.resolve(file)) : process.cwd();
  const abs = (p: string) => path.resolve(base, p);
  return {
    file,
    listen: { host, port: Number(port) },
    tokenFile: abs(raw.tokenFile ?? '/etc/nodewright/token'),
    publicKeyFile: abs(raw.publicKeyFile ?? '/etc/nodewright/controller.pub'),
    tls: raw.tls ? { cert: abs(raw.tls.cert), key: abs(raw.tls.key), ca: abs(raw.tls.ca) } : null,
    controller: raw.controller ?? null,
    root: raw.root ?? '/',
    stateDir: raw.stateDir ?? '/var/lib/nodewright',
    node: raw.node ?? hostname,
    nodeGroup: raw.nodeGroup ?? null,
    instanceUuid: raw.instanceUuid ? raw.instanceUuid.toLowerCase() : null,
    kubelet: {
      healthUrl: raw.kubelet?.healthUrl ?? 'http://127.0.0.1:10248/healthz',
      healthTimeoutMs: (raw.kubelet?.healthTimeoutSec ?? 60) * 1000,
      restartTimeoutMs: (raw.kubelet?.restartTimeoutSec ?? 90) * 1000,
      minHealthyMs: (raw.kubelet?.minHealthySec ?? 10) * 1000,
    },
    schedule: { reconcile: raw.schedule?.reconcile ?? '*/5 * * * *', probes: raw.schedule?.probes ?? '*/10 * * * *' },
    drift: { enabled: raw.drift?.enabled ?? true, debounceMs: raw.drift?.debounceMs ?? 0 },
    probes: { enabled: raw.probes?.enabled ?? true, timeoutMs: (raw.probes?.timeoutSec ?? 30) * 1000 },
    limits: {
      bodyBytes: raw.limits?.bodyBytes ?? 1024 * 1024,
      artifactBytes: raw.limits?.artifactBytes ?? 512 * 1024 * 1024,
      artifactCacheKeep: raw.limits?.artifactCacheKeep ?? 2,
    },
    log: { level: raw.log?.level ?? 'info' },
  };
}

/** Parse + validate YAML text; every error names `file:line`. */
export function parseAgentConfig(text: string, file = 'agent.yaml', hostname?: string): AgentConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const where = (offset: number | undefined) => (offset === undefined ? file : `${file}:${lc.linePos(offset).line}`);
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new NwError('NW_CONFIG', `${where(e.pos[0])}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  const raw = (doc.toJS() ?? {}) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new NwError('NW_CONFIG', `${file}:1: the agent config must be a mapping (key: value lines)`);
  }
  for (const e of Errors(AgentConfigSchema, raw)) {
    const segs = e.path.split('/').filter(Boolean);
    // Walk up to the nearest node that exists (an unknown key's own node, or its parent).
    let node: unknown = undefined;
    for (let n = segs.length; n >= 0 && !node; n--) {
      const found = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
      if (isNode(found)) node = found;
    }
    const off = isNode(node) ? node.range?.[0] : undefined;
    const key = e.path || '/';
    const msg = e.message.includes('additional') || e.schema?.additionalProperties === false ? `unknown or misplaced key (${e.message})` : e.message;
    throw new NwError('NW_CONFIG', `${where(off)}: ${key}: ${msg}; see docs/agent.md for the config keys`);
  }
  const cfg = withDefaults(raw as RawConfig, file, hostname);
  if (!cfg.tls && !isLoopback(cfg.listen.host)) {
    const node = doc.get('listen', true);
    throw new NwError(
      'NW_CONFIG',
      `${where(isNode(node) ? node.range?.[0] : undefined)}: /listen: ${cfg.listen.host} is not a loopback address and there is no tls: section; the bearer token is for loopback only: add tls: {cert, key, ca} (docs/agent.md) or listen on 127.0.0.1`,
    );
  }
  if (cfg.kubelet.minHealthyMs >= cfg.kubelet.healthTimeoutMs) {
    const node = doc.getIn(['kubelet', 'minHealthySec'], true) ?? doc.getIn(['kubelet', 'healthTimeoutSec'], true);
    throw new NwError(
      'NW_CONFIG',
      `${where(isNode(node) ? node.range?.[0] : undefined)}: /kubelet/minHealthySec (${cfg.kubelet.minHealthyMs / 1000} s) must be shorter than kubelet.healthTimeoutSec (${cfg.kubelet.healthTimeoutMs / 1000} s): the kubelet must stay healthy that long within the timeout`,
    );
  }
  for (const [k, expr] of Object.entries(cfg.schedule)) {
    try {
      parseCron(expr);
    } catch (e) {
      const node = doc.getIn(['schedule', k], true);
      throw new NwError('NW_CONFIG', `${where(isNode(node) ? node.range?.[0] : undefined)}: /schedule/${k}: ${(e as Error).message}`);
    }
  }
  return cfg;
}

export async function loadAgentConfig(file = DEFAULT_CONFIG_PATH, hostname?: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the agent config ${file} (${(e as NodeJS.ErrnoException).code}): create it (see docs/agent.md) or pass --config`);
  }
  return parseAgentConfig(text, file, hostname);
}
