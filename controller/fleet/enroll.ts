// Enrollment (POST /v1/join): the token authenticates the request; the controller signs the
// agent's CSR as role agent with CN = node name, records the node and answers with what the agent
// pins: its certificate, the fleet CA and the bundle-signing public key. Nothing is written for a
// request that is refused.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../../host/errors.js';
import { signCsr } from '../../pki/index.js';
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

export async function enroll(deps: EnrollDeps, body: unknown, remoteAddress: string | undefined, now: Date): Promise<JoinResponse> {
  const req = parseJoinRequest(body);
  const { id, secret } = parseToken(req.token);
  if (deps.store.getNode(req.name)) {
    throw new NwError('NW_EXISTS', `node ${req.name} is already enrolled: \`nodewright nodes remove ${req.name}\` first, or join with another --name`);
  }
  // Sign before the token is spent: a bad CSR must not burn it. The certificate is useless unless answered.
  const { certPem } = await signCsr({ ca: deps.ca, csrPem: req.csr, role: 'agent', name: req.name, validDays: deps.certValidDays });
  const at = now.toISOString();
  const token = deps.store.consumeJoinToken(id, hashSecret(secret), req.name, at);
  const node: NodeRecord = {
    name: req.name,
    group: token.group,
    labels: token.labels,
    url: agentUrl(req.listen, remoteAddress),
    certSha256: certSha256(certPem),
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
  deps.store.putNode(node);
  deps.store.appendEvent({ at, actor: `join-token:${id}`, kind: 'node.enrolled', subject: req.name, message: `node ${req.name} enrolled in group ${token.group} at ${node.url}`, data: { facts: req.facts } });
  return { node: req.name, group: token.group, labels: token.labels, cert: certPem, ca: deps.ca.certPem, signingPublicKey: deps.signingPublicKeyPem };
}
