// How the controller talks to agents: one keep-alive https.Agent carrying the controller's client
// certificate, and a server check that the peer is the enrolled node (chain to the fleet CA,
// CN == node name, role agent) on every connection.
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
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
  return new https.Agent({ secureContext, keepAlive: true, keepAliveMsecs: 1000, timeout: o.idleMs, maxSockets: o.maxSockets ?? 4, scheduling: 'lifo' });
}

/** The TLS options of a request to node `name`: SNI = the name (so pooled sockets are per node) and the identity check. */
export function nodeTls(name: string): Pick<https.RequestOptions, 'servername' | 'checkServerIdentity'> {
  return {
    servername: name,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const id = identityOf(cert);
      if (!id || id.role !== 'agent' || id.name !== name) {
        return new Error(`the agent's certificate is for ${id ? `${id.role} ${id.name}` : 'no nodewright identity'}, not the enrolled node ${name}`);
      }
      return undefined;
    },
  };
}
