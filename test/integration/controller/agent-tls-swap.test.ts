// The controller's client certificate towards agents after a reload (SIGHUP): a real TLS server on
// 127.0.0.1 that asks for client certificates sees the old one on the pooled keep-alive connection
// before the swap, and the new one on the next request after it (the idle socket was closed).
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentsHttpsAgent, swapClientCert } from '../../../controller/fleet/agent-tls.js';
import { createCa, createKeyAndCsr, signCsr } from '../../../pki/index.js';

const sha = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('swapClientCert', () => {
  let ca: { certPem: string; keyPem: string };
  let server: https.Server;
  let port: number;
  const seen: { client: string; socket: TLSSocket }[] = [];
  let release: (() => void) | null = null;
  const leaf = async (name: string, role: 'agent' | 'controller') => {
    const k = await createKeyAndCsr({ commonName: name });
    return { key: k.keyPem, cert: (await signCsr({ ca, csrPem: k.csrPem, role, name, validDays: 1 })).certPem };
  };

  beforeAll(async () => {
    ca = await createCa({ commonName: 'test fleet CA' });
    const agentLeaf = await leaf('w1', 'agent');
    server = https.createServer({ ...agentLeaf, ca: ca.certPem, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 30_000 }, (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({ client: socket.getPeerCertificate().fingerprint256, socket });
      // /slow: answered when the test says (a request in flight across the swap)
      if (req.url === '/slow') release = () => res.end('ok');
      else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const get = (agent: https.Agent, path = '/') =>
    new Promise<void>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path, agent, servername: 'w1', checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        res.on('end', () => setImmediate(resolve));
      });
      req.on('error', reject);
    });

  it('new connections show the new client certificate; the idle pooled one is closed', async () => {
    const [first, second] = [await leaf('controller', 'controller'), await leaf('controller', 'controller')];
    const agent = agentsHttpsAgent({ ca: ca.certPem, ...first, idleMs: 30_000 });
    try {
      await get(agent);
      await get(agent);
      expect(seen.map((s) => s.client)).toEqual([sha(first.cert), sha(first.cert)]);
      expect(seen[1].socket).toBe(seen[0].socket); // keep-alive: one connection
      swapClientCert(agent, { ca: ca.certPem, ...second });
      await get(agent);
      expect(seen[2].client).toBe(sha(second.cert));
      expect(seen[2].socket).not.toBe(seen[0].socket);
    } finally {
      agent.destroy();
    }
  });

  it('a connection busy during the swap finishes its request, then is closed, not pooled', async () => {
    seen.length = 0;
    const [first, second] = [await leaf('controller', 'controller'), await leaf('controller', 'controller')];
    const agent = agentsHttpsAgent({ ca: ca.certPem, ...first, idleMs: 30_000 });
    try {
      const slow = get(agent, '/slow');
      while (!release) await new Promise((r) => setTimeout(r, 5));
      swapClientCert(agent, { ca: ca.certPem, ...second });
      release();
      await slow;
      await get(agent);
      expect(seen.map((s) => s.client)).toEqual([sha(first.cert), sha(second.cert)]);
      expect(seen[1].socket).not.toBe(seen[0].socket);
      await get(agent);
      expect(seen[2].socket).toBe(seen[1].socket); // the new connection is kept alive and reused
    } finally {
      agent.destroy();
    }
  });
});
