// Who is calling: the TLS client certificate (fleet CA, role in subject O). The server asks every
// client for a certificate but lets the handshake finish without one, so /healthz, /readyz and
// /v1/join (the join token authenticates) stay open; every other route names the roles it allows.
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { requireRole, type Role } from '../../pki/index.js';

export type Caller = { name: string; role: Role };

export function callerOf(req: FastifyRequest, roles: Role[]): Caller {
  const socket = req.raw.socket as TLSSocket;
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  return requireRole(peer, socket.authorized === true, roles);
}

export const actorOf = (c: Caller) => `${c.role}:${c.name}`;
