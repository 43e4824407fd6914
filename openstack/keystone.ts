// Keystone v3 password authentication: a scoped token plus the service catalog.
import { NwError } from '../host/errors.js';
import type { EndpointInterface, PasswordAuth } from './config.js';
import { httpRequest, type HttpOptions } from './http.js';

export interface CatalogEndpoint {
  interface: string;
  region?: string;
  region_id?: string;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export interface KeystoneToken {
  token: string;
  expiresAt?: string;
  catalog: CatalogService[];
}

export function identityV3Url(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

export function passwordAuthBody(a: PasswordAuth): unknown {
  const user: Record<string, unknown> = { password: a.password };
  if (a.userId) user.id = a.userId;
  else user.name = a.username;
  if (!a.userId) user.domain = a.userDomainId ? { id: a.userDomainId } : { name: a.userDomainName };
  const project: Record<string, unknown> = a.projectId
    ? { id: a.projectId }
    : { name: a.projectName, domain: a.projectDomainId ? { id: a.projectDomainId } : { name: a.projectDomainName } };
  return { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
}

export async function keystonePasswordAuth(http: HttpOptions, a: PasswordAuth): Promise<KeystoneToken> {
  const url = `${identityV3Url(a.authUrl)}/auth/tokens`;
  let res;
  try {
    res = await httpRequest(http, { method: 'POST', url, body: passwordAuthBody(a) });
  } catch (e) {
    if (e instanceof NwError && (e.code === 'NW_OPENSTACK_AUTH' || e.code === 'NW_NOT_FOUND')) {
      throw new NwError('NW_OPENSTACK_AUTH', `Keystone at ${a.authUrl} refused the credentials of user ${a.username ?? a.userId}: ${e.message}`);
    }
    throw e;
  }
  const token = res.headers.get('x-subject-token');
  const body = res.body as { token?: { expires_at?: string; catalog?: CatalogService[] } } | null;
  if (!token || !body?.token) {
    throw new NwError('NW_OPENSTACK_AUTH', `Keystone at ${a.authUrl} answered without a token; is auth_url the identity endpoint?`);
  }
  return { token, expiresAt: body.token.expires_at, catalog: body.token.catalog ?? [] };
}

export function findEndpoint(catalog: CatalogService[], type: string, iface: EndpointInterface, region?: string): string {
  const services = catalog.filter((s) => s.type === type);
  const candidates = services.flatMap((s) => s.endpoints).filter((e) => e.interface === iface);
  const inRegion = region ? candidates.filter((e) => e.region === region || e.region_id === region) : candidates;
  if (inRegion.length === 0) {
    throw new NwError(
      'NW_OPENSTACK',
      `no ${iface} '${type}' endpoint${region ? ` in region ${region}` : ''} in the service catalog; set region_name/interface, or compute_endpoint_override`,
    );
  }
  return inRegion[0].url;
}
