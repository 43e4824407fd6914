// controller.yaml: YAML, schema-validated; relative paths are relative to the file's directory.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { NwError } from '../host/errors.js';

const File = Type.String({ minLength: 1, maxLength: 4096 });
const Listen = Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$' });

export const ControllerConfigSchema = Type.Object(
  {
    listen: Type.Optional(Listen),
    /** URL agents use to reach the controller (artifact downloads); default https://<listen>. */
    url: Type.Optional(Type.String({ pattern: '^https://' })),
    stateDir: File,
    tls: Type.Object({ cert: File, key: File, ca: File }, { additionalProperties: false }),
    /** The fleet CA's private key: signs the agents' CSRs at enrollment. */
    caKeyFile: File,
    signingKeyFile: File,
    operator: Type.Optional(
      Type.Object(
        {
          /** Certificate roles allowed to call the operator API. */
          roles: Type.Optional(Type.Array(Type.Union([Type.Literal('operator'), Type.Literal('controller')]), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    poll: Type.Optional(
      Type.Object(
        {
          intervalSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3600 })),
          rolloutIntervalSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 600 })),
          timeoutSec: Type.Optional(Type.Number({ minimum: 0.1, maximum: 600 })),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          maxBackoffSec: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** An OpenStack cloud (clouds.yaml name): the daemon's API then answers the compute-node routes. */
    openstack: Type.Optional(
      Type.Object({ cloud: Type.String({ minLength: 1, maxLength: 256 }), computeApiVersion: Type.Optional(Type.String({ pattern: '^2\\.[0-9]{1,3}$' })) }, { additionalProperties: false }),
    ),
    join: Type.Optional(Type.Object({ certValidDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false })),
    log: Type.Optional(
      Type.Object(
        { level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type RawConfig = Static<typeof ControllerConfigSchema>;

export interface ControllerConfig {
  file: string;
  listen: { host: string; port: number };
  url: string;
  stateDir: string;
  tls: { cert: string; key: string; ca: string };
  caKeyFile: string;
  signingKeyFile: string;
  operatorRoles: ('operator' | 'controller')[];
  poll: { intervalMs: number; rolloutIntervalMs: number; timeoutMs: number; concurrency: number; maxBackoffMs: number };
  certValidDays: number;
  log: { level: string };
  openstack: { cloud: string; computeApiVersion?: string } | null;
}

export const DEFAULT_LISTEN = '127.0.0.1:7700';

export function splitListen(spec: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec);
  if (!m || Number(m[2]) > 65535) throw new NwError('NW_USAGE', `listen address must be HOST:PORT (e.g. 127.0.0.1:7700), got '${spec}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export const urlOf = (l: { host: string; port: number }) => `https://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;

export function withDefaults(raw: RawConfig, file: string): ControllerConfig {
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const listen = splitListen(raw.listen ?? DEFAULT_LISTEN);
  return {
    file,
    listen,
    url: raw.url ?? urlOf(listen),
    stateDir: abs(raw.stateDir),
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
    log: { level: raw.log?.level ?? 'info' },
    openstack: raw.openstack ?? null,
  };
}

export function parseControllerConfig(text: string, file = 'controller.yaml'): ControllerConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new NwError('NW_CONFIG', `${file}: YAML syntax error: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new NwError('NW_CONFIG', `${file}: the controller config must be a mapping (key: value lines)`);
  const first = Value.Errors(ControllerConfigSchema, raw).First();
  if (first) throw new NwError('NW_CONFIG', `${file}: ${first.path || '/'}: ${first.message}; see docs/controller.md for the config keys`);
  return withDefaults(raw as RawConfig, file);
}

export async function loadControllerConfig(file: string): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the controller config ${file} (${(e as NodeJS.ErrnoException).code}): create it with \`nodewright init --dir D\` or pass --config`);
  }
  return parseControllerConfig(text, file);
}
