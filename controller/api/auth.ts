// Who is calling: the TLS client certificate (fleet CA, role in subject O). The server asks every
// client for a certificate but lets the handshake finish without one, so /healthz, /readyz and
// /v1/join (the join token authenticates) stay open; every other route names the roles it allows.
// An agent is more than its role: its certificate must be the one the controller issued to that
// node and still pins (enrolment or last renewal), so `nodes remove` revokes it.
import type { FastifyRequest } from 'fastify';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { NwError } from '../../host/errors.js';
import { identityOf, peerSha256, requireRole, type Role } from '../../pki/index.js';
import type { NodeRecord, Store } from '../store/store.js';

export type Caller = { name: string; role: Role };

const peerOf = (req: FastifyRequest): { socket: TLSSocket; peer: PeerCertificate | undefined } => {
  const socket = req.raw.socket as TLSSocket;
  return { socket, peer: typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined };
};

/** The caller, one of `roles` (never an agent: routes agents use take pinnedCallerOf or agentCallerOf). */
export function callerOf(req: FastifyRequest, roles: Role[]): Caller {
  const { socket, peer } = peerOf(req);
  const caller = requireRole(peer, socket.authorized === true, roles);
  if (caller.role === 'agent') throw new NwError('NW_FORBIDDEN', `role agent (${caller.name}) may not do this`);
  return caller;
}

/** callerOf for a route agents may use too: an agent's certificate must be the one its node pins. */
export async function pinnedCallerOf(req: FastifyRequest, roles: Role[], store: Store): Promise<Caller> {
  const { socket, peer } = peerOf(req);
  const caller = requireRole(peer, socket.authorized === true, roles);
  if (caller.role === 'agent') await pinnedNode(store, caller.name, peer!);
  return caller;
}

/** The enrolled node whose pinned certificate `peer` is; NW_AUTH (401) otherwise. */
export async function pinnedNode(store: Store, name: string, peer: PeerCertificate): Promise<NodeRecord> {
  const node = await store.getNode(name);
  if (!node) throw new NwError('NW_AUTH', `node ${name} is not enrolled (removed?): its certificate is revoked; join it again with a new token`);
  if (node.certSha256 !== peerSha256(peer)) {
    throw new NwError('NW_AUTH', `this certificate of node ${name} is not the one the controller pins (replaced by a renewal or a new enrolment): use the node's current certificate, or remove and join it again`);
  }
  return node;
}

/** The agent calling and its node record (pinned), for routes only enrolled agents use. */
export async function agentCallerOf(req: FastifyRequest, store: Store): Promise<{ node: NodeRecord; peer: PeerCertificate }> {
  const { socket, peer } = peerOf(req);
  const caller = requireRole(peer, socket.authorized === true, ['agent']);
  return { node: await pinnedNode(store, caller.name, peer!), peer: peer! };
}

export const actorOf = (c: Caller) => `${c.role}:${c.name}`;

/** The node name of an agent caller whose certificate `store` pins, else null (the route itself refuses it): the key of per-node limits. */
export async function pinnedAgentNameOf(req: FastifyRequest, store: Store | undefined): Promise<string | null> {
  const { socket, peer } = peerOf(req);
  try {
    const { name } = requireRole(peer, socket.authorized === true, ['agent']);
    return store ? (await pinnedNode(store, name, peer!)).name : null;
  } catch {
    return null;
  }
}

/** What Prometheus (role `metrics`) may call; the routes themselves still name the roles they allow. */
export const METRICS_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/v1/prometheus/targets']);

/**
 * NW_FORBIDDEN for a caller of the `metrics` role on any other route, before its body is read or
 * checked: a Prometheus credential reads metrics and the scrape targets, and nothing else.
 */
export function confineMetricsRole(req: FastifyRequest): void {
  const url = req.routeOptions.url;
  if (url !== undefined && METRICS_ROUTES.has(url)) return;
  const { socket, peer } = peerOf(req);
  if (!socket.authorized || !peer || Object.keys(peer).length === 0) return;
  if (identityOf(peer)?.role === 'metrics') {
    throw new NwError('NW_FORBIDDEN', `role metrics may read only ${[...METRICS_ROUTES].join(', ')}: use an operator certificate for ${req.method} ${url ?? req.url}`);
  }
}
