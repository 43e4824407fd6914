// Certificate renewal (POST /v1/renew), kubelet client-certificate rotation style: an enrolled agent
// sends a CSR for a key pair it made, over mutual TLS with its current (pinned) certificate. The
// controller signs it with the same name, role (agent) and subjectAltNames as the current one,
// and pins the new certificate in place of the old in one transaction with its event.
import type { PeerCertificate } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../../host/errors.js';
import { peerAltNames, signCsr } from '../../pki/index.js';
import type { NodeRecord } from '../store/store.js';
import { certSha256, lifetimeOf, type EnrollDeps } from './enroll.js';

export const RenewRequestSchema = Type.Object({ csr: Type.String({ minLength: 1, maxLength: 16_384 }) }, { additionalProperties: false });

export interface RenewResponse {
  node: string;
  cert: string;
  notAfter: string;
}

export async function renew(deps: EnrollDeps, node: NodeRecord, current: PeerCertificate, body: unknown, now: Date): Promise<RenewResponse> {
  if (!Value.Check(RenewRequestSchema, body)) {
    const e = Value.Errors(RenewRequestSchema, body).First();
    throw new NwError('NW_USAGE', `renew request invalid: ${e?.path || '/'}: ${e?.message}; send {"csr": "<PEM>"}`);
  }
  const { certPem, notAfter } = await signCsr({ ca: deps.ca, csrPem: body.csr, role: 'agent', name: node.name, ...lifetimeOf(deps), ...peerAltNames(current) });
  const at = now.toISOString();
  await deps.store.renewNodeCert(node.name, node.certSha256, { certSha256: certSha256(certPem), certNotAfter: notAfter.toISOString() }, {
    at, actor: `agent:${node.name}`, kind: 'node.cert-renewed', subject: node.name, message: `certificate of ${node.name} renewed, valid until ${notAfter.toISOString()}`,
  });
  return { node: node.name, cert: certPem, notAfter: notAfter.toISOString() };
}
