// Enrollment (POST /v1/join): the token authenticates the request; the controller signs the
// agent's CSR as role agent with CN = node name (never any other role), records the node and answers
// with what the agent pins: its certificate, the fleet CA and the bundle-signing public key. One
// enrolment per name: the insert, the token's use and the event are one transaction. Nothing is
// written for a request that is refused.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../../host/errors.js';
import { isDnsName, signCsr, type AltNames } from '../../pki/index.js';
import type { NodeRecord, Store } from '../store/store.js';
import { hashSecret, parseToken } from './join-token.js';

const NodeName = Type.String({ pattern: '^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$' });

export const JoinRequestSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 64 }),
    name: NodeName,
    csr: Type.String({ minLength: 1, maxLength: 16_384 }),
    /** HOST:PORT the agent listens on (the controller reaches it there). */
    listen: Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', maxLength: 300 }),
    facts: Type.Object(
      {
        hostname: Type.String({ minLength: 1, maxLength: 253 }),
        addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
        runtime: Type.Optional(Type.Union([Type.Literal('rkt'), Type.Literal('native')])),
        instanceUuid: Type.Optional(Type.String({ maxLength: 64 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type JoinRequest = Static<typeof JoinRequestSchema>;

export interface JoinResponse {
  node: string;
  group: string;
  labels: Record<string, string>;
  cert: string;
  ca: string;
  signingPublicKey: string;
}

export interface EnrollDeps {
  store: Store;
  ca: { certPem: string; keyPem: string };
  signingPublicKeyPem: string;
  certValidDays: number;
  /** Overrides certValidDays when set (short lifetimes for renewal tests; at least 60). */
  certValidSeconds?: number;
}

export const certSha256 = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

/** https://HOST:PORT of the agent; a wildcard listen address is replaced by the address the join came from. */
export function agentUrl(listen: string, remoteAddress: string | undefined): string {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen)!;
  let host = m[1].replace(/^\[|\]$/g, '');
  if (host === '0.0.0.0' || host === '::') host = (remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${m[2]}`;
}

export function parseJoinRequest(body: unknown): JoinRequest {
  if (Value.Check(JoinRequestSchema, body)) return body;
  const e = Value.Errors(JoinRequestSchema, body).First();
  throw new NwError('NW_USAGE', `join request invalid: ${e?.path || '/'}: ${e?.message}; use \`nodewright-agent join\``);
}

/**
 * The names an agent certificate carries: the node name (DNS, when it is one) and the address the
 * controller reaches the agent at (so the name the poller dials is in the certificate). The joiner's
 * own request names are never copied.
 */
export function agentAltNames(name: string, url: string, hostname?: string): AltNames {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const d of [name, hostname]) if (d && isDnsName(d)) dns.add(d);
  if (isIP(host)) ips.add(host);
  else if (isDnsName(host)) dns.add(host);
  return { dnsNames: [...dns], ipAddresses: [...ips] };
}

/** The agent certificate lifetime the controller signs with (seconds win over days: short lifetimes for tests). */
export const lifetimeOf = (d: Pick<EnrollDeps, 'certValidDays' | 'certValidSeconds'>) =>
  d.certValidSeconds !== undefined ? { validSeconds: d.certValidSeconds } : { validDays: d.certValidDays };

export async function enroll(deps: EnrollDeps, body: unknown, remoteAddress: string | undefined, now: Date): Promise<JoinResponse> {
  const req = parseJoinRequest(body);
  const { id, secret } = parseToken(req.token);
  const at = now.toISOString();
  // The token first (no CSR work for a request that cannot succeed), then the name; both again,
  // authoritatively, in the transaction that inserts the node.
  const token = await deps.store.checkJoinToken(id, hashSecret(secret), at);
  if (await deps.store.getNode(req.name)) {
    throw new NwError('NW_EXISTS', `node ${req.name} is already enrolled: \`nodewright nodes remove ${req.name}\` first, or join with another --name`);
  }
  const url = agentUrl(req.listen, remoteAddress);
  const { certPem, notAfter } = await signCsr({
    ca: deps.ca, csrPem: req.csr, role: 'agent', name: req.name, ...lifetimeOf(deps), ...agentAltNames(req.name, url, req.facts.hostname),
  });
  const node: NodeRecord = {
    name: req.name,
    group: token.group,
    labels: token.labels,
    url,
    certSha256: certSha256(certPem),
    certNotAfter: notAfter.toISOString(),
    facts: req.facts,
    enrolledAt: at,
    health: 'unknown',
    reason: 'not polled yet',
    healthSince: at,
    lastSeenAt: null,
    generation: null,
    converged: false,
    ready: false,
  };
  await deps.store.insertNode(node, { id, secretHash: hashSecret(secret), at }, [
    { at, actor: `join-token:${id}`, kind: 'node.enrolled', subject: req.name, message: `node ${req.name} enrolled in group ${token.group} at ${node.url}`, data: { facts: req.facts } },
  ]);
  return { node: req.name, group: token.group, labels: token.labels, cert: certPem, ca: deps.ca.certPem, signingPublicKey: deps.signingPublicKeyPem };
}
