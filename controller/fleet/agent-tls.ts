// How the controller talks to agents: one keep-alive https.Agent carrying the controller's client
// certificate, and a server check that the peer is the enrolled node on every connection: chain
// to the fleet CA, CN == node name, role agent, and the very certificate the controller issued at
// enrollment (its sha256 in the store). Another valid fleet certificate for the same name (an old
// one, or one issued to a removed node) is refused.
import https from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { identityOf } from '../../pki/identity.js'; // not pki/index: that loads the certificate library

export interface AgentTlsOptions {
  ca: string;
  cert: string;
  key: string;
  /** Idle keep-alive sockets live longer than the poll interval, or every poll redoes TLS. */
  idleMs: number;
  maxSockets?: number;
}

export function agentsHttpsAgent(o: AgentTlsOptions): https.Agent {
  // one TLS context for every connection: without it each connection parses the CA, certificate
  // and key into a context of its own (CPU per handshake, tens of KiB per idle connection)
  const secureContext = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key });
  // No TLS session resumption: a resumed session skips checkServerIdentity and shows no peer
  // certificate, so a process that held the node's old certificate could resume past a changed pin.
  // Keep-alive makes new connections rare; each one is a full handshake, checked.
  return new https.Agent({ secureContext, keepAlive: true, keepAliveMsecs: 1000, timeout: o.idleMs, maxSockets: o.maxSockets ?? 4, scheduling: 'lifo', maxCachedSessions: 0 });
}

// sockets that showed a client certificate since replaced: closed when their request ends
const stale = new WeakSet<Socket>();
const watched = new WeakSet<https.Agent>();

/**
 * After the controller's certificate is renewed (SIGHUP): new connections to agents show the new
 * client certificate; idle pooled ones are closed, busy ones when their request ends (never reused).
 */
export function swapClientCert(agent: https.Agent, o: Pick<AgentTlsOptions, 'ca' | 'cert' | 'key'>): void {
  (agent.options as { secureContext?: SecureContext }).secureContext = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key });
  for (const sockets of Object.values(agent.sockets)) for (const s of sockets ?? []) stale.add(s);
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  if (watched.has(agent)) return;
  watched.add(agent);
  // runs after the agent's own 'free' listener has pooled the socket: destroying it takes it out
  agent.on('free', (s: Socket) => {
    if (stale.has(s)) s.destroy();
  });
}

/** The enrolled identity of a node: its name and the fingerprint of the certificate it was issued. */
export interface NodeIdentity {
  name: string;
  certSha256: string;
  /** After a renewal: the certificate it replaced, still accepted until `previousUntil` (epoch ms). */
  previousCertSha256?: string;
  previousUntil?: number;
}

/** How long a renewed node's previous certificate is still accepted: requests already on the wire, and keep-alive connections the agent opened before it swapped its certificate. */
export const PIN_HANDOVER_MS = 120_000;

/** `AB:CD:…` (node:tls) → `abcd…` (the store's form). */
const fingerprintOf = (cert: PeerCertificate): string => (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();

/** Why this peer certificate is not the enrolled node's, or null when it is. */
export function identityProblem(cert: PeerCertificate, node: NodeIdentity): string | null {
  const id = identityOf(cert);
  if (!id || id.role !== 'agent' || id.name !== node.name) {
    return `the agent's certificate is for ${id ? `${id.role} ${id.name}` : 'no nodewright identity'}, not the enrolled node ${node.name}`;
  }
  const seen = fingerprintOf(cert);
  const handover = node.previousCertSha256 !== undefined && Date.now() < (node.previousUntil ?? 0) && seen === node.previousCertSha256.toLowerCase();
  if (seen !== node.certSha256.toLowerCase() && !handover) {
    return `the agent's certificate (sha256 ${seen.slice(0, 16)}…) is not the one enrolled for ${node.name} (sha256 ${node.certSha256.slice(0, 16)}…): an old or foreign certificate; re-enroll the node (\`nodewright nodes remove ${node.name}\`, then join) if it is really this worker`;
  }
  return null;
}

/** The TLS options of a request to an enrolled node: SNI = the name (so pooled sockets are per node) and the identity check. */
export function nodeTls(node: NodeIdentity): Pick<https.RequestOptions, 'servername' | 'checkServerIdentity'> {
  return {
    servername: node.name,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const why = identityProblem(cert, node);
      return why ? new Error(why) : undefined;
    },
  };
}

// A pooled keep-alive socket was checked when it connected, against the pin of that moment: a
// socket is checked again when the pin it is used with differs (the store's certSha256 changed).
const checkedPin = new WeakMap<TLSSocket, string>();

/** Null when the socket's peer is the enrolled node (cached per socket and pin). */
export function socketProblem(socket: TLSSocket, node: NodeIdentity): string | null {
  const cert = socket.getPeerCertificate();
  // a socket accepted only for the handover is checked on every use (the handover ends)
  if (checkedPin.get(socket) === node.certSha256) return null;
  const why = identityProblem(cert, node);
  if (!why && fingerprintOf(cert) === node.certSha256.toLowerCase()) checkedPin.set(socket, node.certSha256);
  return why;
}
