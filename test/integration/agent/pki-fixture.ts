// A fleet CA and certificates for the TLS tests: the agent's (IP 127.0.0.1), client certificates of
// each role, and a controller certificate from a foreign CA.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, createKeyAndCsr, signCsr, type Role } from '../../../pki/index.js';

export interface Pem {
  cert: string;
  key: string;
}

export interface Fleet {
  ca: { certPem: string; keyPem: string };
  agent: Pem;
  clients: Record<Role | 'foreign', Pem>;
  foreignCa: { certPem: string; keyPem: string };
  /** Writes ca.crt, agent.crt, agent.key (0600) into dir/tls; returns the tls: block for agent.yaml (relative paths). */
  install(dir: string): string;
}

async function issue(ca: { certPem: string; keyPem: string }, role: Role, name: string, ipAddresses?: string[]): Promise<Pem> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
  const { certPem } = await signCsr({ ca, csrPem, role, name, ipAddresses });
  return { cert: certPem, key: keyPem };
}

export async function fleet(): Promise<Fleet> {
  const ca = await createCa({ commonName: 'test fleet CA' });
  const foreignCa = await createCa({ commonName: 'foreign CA' });
  const agent = await issue(ca, 'agent', 'worker-1', ['127.0.0.1']);
  const clients = {
    controller: await issue(ca, 'controller', 'ctl-1'),
    operator: await issue(ca, 'operator', 'alice'),
    metrics: await issue(ca, 'metrics', 'prometheus'),
    agent: await issue(ca, 'agent', 'worker-2'),
    foreign: await issue(foreignCa, 'controller', 'ctl-evil'),
  };
  return {
    ca,
    agent,
    clients,
    foreignCa,
    install(dir) {
      const tls = path.join(dir, 'tls');
      mkdirSync(tls, { recursive: true });
      writeFileSync(path.join(tls, 'ca.crt'), ca.certPem);
      writeFileSync(path.join(tls, 'agent.crt'), agent.cert);
      writeFileSync(path.join(tls, 'agent.key'), agent.key, { mode: 0o600 });
      return 'tls:\n  cert: tls/agent.crt\n  key: tls/agent.key\n  ca: tls/ca.crt\n';
    },
  };
}
