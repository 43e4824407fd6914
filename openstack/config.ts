// Credentials the OpenStack way: clouds.yaml (OS_CLOUD / --os-cloud) or OS_* environment variables.
// Supports Keystone v3 password auth and keystoneauth's admin_token auth type ({endpoint, token}).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { NwError } from '../host/errors.js';

export interface PasswordAuth {
  type: 'password';
  authUrl: string;
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
}

export interface AdminTokenAuth {
  type: 'admin_token';
  endpoint: string;
  token: string;
}

export type CloudAuth = PasswordAuth | AdminTokenAuth;
export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface CloudConfig {
  /** Where the settings came from (cloud name + file, or "environment"), for messages. */
  source: string;
  auth: CloudAuth;
  regionName?: string;
  interface: EndpointInterface;
  /** Skips the service catalog for compute (clouds.yaml compute_endpoint_override). */
  computeEndpointOverride?: string;
  /** Skips the service catalog for Cinder (clouds.yaml block_storage_endpoint_override, openstacksdk's key). */
  blockStorageEndpointOverride?: string;
  /** Requested compute microversion ("2.67", "latest"); default: negotiate the highest. */
  computeApiVersion?: string;
  /** `servers boot` network when --network is not given (clouds.yaml default_network, a nodewright key): a UUID, auto or none. */
  defaultNetwork?: string;
  timeoutMs: number;
}

export interface LoadCloudOptions {
  cloud?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** The clouds.yaml search path, in the order openstacksdk uses. */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv, cwd: string, home: string): string[] {
  const paths = [
    path.join(cwd, 'clouds.yaml'),
    path.join(home, '.config', 'openstack', 'clouds.yaml'),
    '/etc/openstack/clouds.yaml',
  ];
  return env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE, ...paths] : paths;
}

export function loadCloudConfig(opts: LoadCloudOptions = {}): CloudConfig {
  const env = opts.env ?? process.env;
  const cloud = opts.cloud ?? env.OS_CLOUD;
  if (cloud) {
    const files = cloudsYamlPaths(env, opts.cwd ?? process.cwd(), opts.home ?? os.homedir());
    for (const file of files) {
      if (!existsSync(file)) continue;
      const doc = parseCloudsYaml(file);
      const entry = doc.clouds?.[cloud];
      if (entry) return cloudFromEntry(entry, `cloud '${cloud}' in ${file}`);
    }
    throw new NwError(
      'NW_OPENSTACK_AUTH',
      `cloud '${cloud}' is not defined in any clouds.yaml (looked in ${files.join(', ')}); add it there or unset OS_CLOUD and use OS_* variables`,
    );
  }
  return cloudFromEnv(env);
}

interface CloudsYaml {
  clouds?: Record<string, CloudEntry>;
}

export interface CloudEntry {
  auth_type?: string;
  auth?: Record<string, unknown>;
  region_name?: string;
  interface?: string;
  endpoint_type?: string;
  compute_endpoint_override?: string;
  block_storage_endpoint_override?: string;
  compute_api_version?: string | number;
  api_timeout?: number | string;
  default_network?: string;
}

function parseCloudsYaml(file: string): CloudsYaml {
  try {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as unknown;
    if (doc === null || typeof doc !== 'object') throw new Error('not a mapping');
    return doc as CloudsYaml;
  } catch (e) {
    throw new NwError('NW_CONFIG', `${file} is not valid clouds.yaml: ${(e as Error).message}; fix the YAML`);
  }
}

/**
 * Parse a made-up clouds.yaml (both auth types, flow and block style, quoted and plain scalars)
 * so the YAML parser's code is compiled while a startup snapshot is built (controller/openstack-cli.ts):
 * a lookup then does not compile it again (~5 ms of CPU: bench P4). Reads and returns nothing.
 */
export function warmCloudsYamlParser(): void {
  const doc = YAML.parse(`clouds:
  prod:
    auth_type: password
    auth:
      auth_url: "https://keystone.example:5000/v3"
      username: 'operator'
      password: not-a-secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    api_timeout: 60
  lab:
    auth_type: admin_token
    auth: {endpoint: "http://127.0.0.1:1/v2.1", token: "t"}
    compute_api_version: '2.53'
`) as CloudsYaml;
  for (const [name, entry] of Object.entries(doc.clouds ?? {})) cloudFromEntry(entry, `cloud '${name}'`);
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' ? undefined : String(v);

export function cloudFromEntry(entry: CloudEntry, source: string): CloudConfig {
  const a = entry.auth ?? {};
  const auth = buildAuth(
    str(entry.auth_type),
    {
      authUrl: str(a.auth_url),
      username: str(a.username),
      userId: str(a.user_id),
      password: str(a.password),
      userDomainName: str(a.user_domain_name) ?? str(a.domain_name),
      userDomainId: str(a.user_domain_id) ?? str(a.domain_id),
      projectName: str(a.project_name) ?? str(a.tenant_name),
      projectId: str(a.project_id) ?? str(a.tenant_id),
      projectDomainName: str(a.project_domain_name) ?? str(a.domain_name),
      projectDomainId: str(a.project_domain_id) ?? str(a.domain_id),
      endpoint: str(a.endpoint) ?? str(a.url),
      token: str(a.token),
    },
    source,
  );
  return {
    source,
    auth,
    regionName: str(entry.region_name),
    interface: parseInterface(str(entry.interface) ?? str(entry.endpoint_type), source),
    computeEndpointOverride: str(entry.compute_endpoint_override),
    blockStorageEndpointOverride: str(entry.block_storage_endpoint_override),
    computeApiVersion: str(entry.compute_api_version),
    defaultNetwork: str(entry.default_network),
    timeoutMs: parseTimeout(entry.api_timeout, source),
  };
}

export function cloudFromEnv(env: NodeJS.ProcessEnv): CloudConfig {
  const source = 'OS_* environment variables';
  if (!env.OS_AUTH_URL && !env.OS_ENDPOINT && !env.OS_AUTH_TYPE) {
    throw new NwError(
      'NW_OPENSTACK_AUTH',
      'no OpenStack credentials: pass --os-cloud NAME (clouds.yaml) or set OS_CLOUD, or set OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME (password) or OS_AUTH_TYPE=admin_token with OS_ENDPOINT/OS_TOKEN',
    );
  }
  // OS_<KEY> is the environment spelling of every clouds.yaml key: read it as a cloud entry.
  const os = (key: string) => str(env[`OS_${key.toUpperCase()}`]);
  const entry: CloudEntry = {
    auth_type: os('auth_type'),
    auth: Object.fromEntries(ENV_AUTH_KEYS.map((k) => [k, os(k)])),
    region_name: os('region_name'),
    interface: os('interface'),
    endpoint_type: os('endpoint_type'),
    compute_endpoint_override: os('compute_endpoint_override'),
    block_storage_endpoint_override: os('block_storage_endpoint_override'),
    compute_api_version: os('compute_api_version'),
    api_timeout: os('api_timeout'),
  };
  return cloudFromEntry(entry, source);
}

const ENV_AUTH_KEYS = [
  'auth_url', 'username', 'user_id', 'password', 'user_domain_name', 'user_domain_id', 'domain_name', 'domain_id',
  'project_name', 'tenant_name', 'project_id', 'tenant_id', 'project_domain_name', 'project_domain_id',
  'endpoint', 'url', 'token',
];

/** Auth fields as read, before the auth type says which are required. */
type RawAuth = Partial<Omit<PasswordAuth, 'type'> & Omit<AdminTokenAuth, 'type'>>;

function buildAuth(authType: string | undefined, a: RawAuth, source: string): CloudAuth {
  const type = authType ?? (a.token && a.endpoint && !a.authUrl ? 'admin_token' : 'password');
  if (type === 'admin_token') {
    if (!a.endpoint || !a.token) {
      throw new NwError('NW_OPENSTACK_AUTH', `${source}: auth_type admin_token needs auth.endpoint and auth.token (OS_ENDPOINT/OS_TOKEN)`);
    }
    return { type: 'admin_token', endpoint: a.endpoint, token: a.token };
  }
  if (type === 'password' || type === 'v3password') {
    const missing = [
      !a.authUrl && 'auth_url',
      !a.username && !a.userId && 'username',
      !a.password && 'password',
      !a.projectName && !a.projectId && 'project_name',
    ].filter(Boolean);
    if (missing.length) {
      throw new NwError('NW_OPENSTACK_AUTH', `${source}: password auth is missing ${missing.join(', ')}; add them (or OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME)`);
    }
    return {
      type: 'password',
      authUrl: a.authUrl!,
      username: a.username,
      userId: a.userId,
      password: a.password!,
      userDomainName: a.userDomainName ?? (a.userDomainId ? undefined : 'Default'),
      userDomainId: a.userDomainId,
      projectName: a.projectName,
      projectId: a.projectId,
      projectDomainName: a.projectDomainName ?? (a.projectDomainId ? undefined : 'Default'),
      projectDomainId: a.projectDomainId,
    };
  }
  throw new NwError('NW_OPENSTACK_AUTH', `${source}: auth_type '${type}' is not supported; use password, v3password or admin_token`);
}

function parseInterface(v: string | undefined, source: string): EndpointInterface {
  const i = (v ?? 'public').replace(/URL$/, '');
  if (i === 'public' || i === 'internal' || i === 'admin') return i;
  throw new NwError('NW_CONFIG', `${source}: interface '${v}' is not one of public, internal, admin`);
}

function parseTimeout(v: unknown, source: string): number {
  if (v === undefined || v === null || v === '') return DEFAULT_TIMEOUT_MS;
  const s = Number(v);
  if (!Number.isFinite(s) || s <= 0) throw new NwError('NW_CONFIG', `${source}: api_timeout '${String(v)}' must be a positive number of seconds`);
  return Math.round(s * 1000);
}
