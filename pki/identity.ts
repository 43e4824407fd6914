// Who a certificate speaks for: subject CN = name, subject O = `nodewright:<role>`.
// No certificate library here: the agent's HTTP face reads peers with node:tls only.
import type { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { NwError } from '../host/errors.js';

/** `metrics` is Prometheus: it may read `/metrics` (agents, controller) and the scrape targets, nothing else. */
export const ROLES = ['agent', 'controller', 'operator', 'metrics'] as const;
export type Role = (typeof ROLES)[number];
export const ROLE_PREFIX = 'nodewright:';

export const isRole = (s: unknown): s is Role => typeof s === 'string' && (ROLES as readonly string[]).includes(s);

/** Names a certificate may carry: DNS-label-like, so they are safe in file names, logs and DNs. */
export const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;

type Subject = Record<string, string | string[] | undefined>;

/** X509Certificate.subject is `K=V` lines; PeerCertificate.subject is an object. */
function subjectOf(cert: { subject: string } | X509Certificate | PeerCertificate): Subject | null {
  const s = (cert as { subject?: unknown }).subject;
  if (s && typeof s === 'object') return s as Subject;
  if (typeof s !== 'string') return null;
  const out: Record<string, string[]> = {};
  for (const line of s.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    (out[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

/** The nodewright identity of a certificate, or null when it carries none (or an ambiguous one). */
export function identityOf(cert: { subject: string } | X509Certificate | PeerCertificate): { name: string; role: Role } | null {
  const subject = subjectOf(cert);
  if (!subject) return null;
  const { CN: name, O: org } = subject;
  if (typeof name !== 'string' || typeof org !== 'string') return null; // absent or several values
  if (!NAME_PATTERN.test(name) || !org.startsWith(ROLE_PREFIX)) return null;
  const role = org.slice(ROLE_PREFIX.length);
  return isRole(role) ? { name, role } : null;
}

/**
 * The identity of a TLS peer, or a coded error: NW_AUTH when there is no certificate or it is not
 * signed by the fleet CA (`authorized` is the socket's verdict), NW_FORBIDDEN when its role is not one of `roles`.
 */
export function requireRole(peer: PeerCertificate | undefined, authorized: boolean, roles: Role[]): { name: string; role: Role } {
  if (!peer || Object.keys(peer).length === 0) {
    throw new NwError('NW_AUTH', 'a client certificate of the fleet CA is required: issue one with `nodewright ca issue` and pass --cert/--key');
  }
  if (!authorized) throw new NwError('NW_AUTH', 'the client certificate is not signed by the fleet CA: issue one with `nodewright ca issue` from the CA in agent.yaml tls.ca');
  const id = identityOf(peer);
  if (!id) throw new NwError('NW_FORBIDDEN', 'the client certificate carries no nodewright role (subject O=nodewright:<role>): issue it with `nodewright ca issue --role`');
  if (!roles.includes(id.role)) throw new NwError('NW_FORBIDDEN', `role ${id.role} (${id.name}) may not do this; allowed: ${roles.join(', ')}`);
  return id;
}

/**
 * A `checkServerIdentity` for every client of the controller (operator CLI, join, the agent's
 * renewal and downloads): the usual host-name check, then the controller role. A worker's (agent)
 * certificate chains to the same CA and may even carry the right name: it must never pass.
 */
export function checkControllerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const id = identityOf(cert);
  if (!id || id.role !== 'controller') {
    return new NwError(
      'NW_TLS',
      `the server at ${host} presents a certificate of ${id ? `${id.role} ${id.name}` : 'no nodewright identity'}, not of the controller (role controller): it is not the controller; check the URL, and where this address really leads`,
    );
  }
  const hostError = checkServerIdentity(host, cert);
  if (hostError) return new NwError('NW_TLS', `the controller's certificate does not name ${host} (${hostError.message}): use the address it was issued for, or \`nodewright certs renew\` with that name`);
  return undefined;
}

/** `sha256` hex (lower case, no colons) of a peer certificate: what the controller pins per node. */
export const peerSha256 = (cert: PeerCertificate): string => cert.fingerprint256.replace(/:/g, '').toLowerCase();

/** The DNS names and IP addresses of a subjectAltName as node:crypto and node:tls print it (`DNS:a, IP Address:1.2.3.4`). */
export function parseAltNames(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const out = { dnsNames: [] as string[], ipAddresses: [] as string[] };
  for (const part of (text ?? '').split(', ')) {
    if (part.startsWith('DNS:')) out.dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) out.ipAddresses.push(part.slice(11));
  }
  return out;
}

export const peerAltNames = (cert: PeerCertificate) => parseAltNames(cert.subjectaltname);
