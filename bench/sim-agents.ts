// Many simulated agents in one process (bench P8): node i listens on its own loopback address
// (127.x.y.z, a distinct origin), serves TLS with its own fleet-CA certificate (SNI = node name,
// as the controller sends it), asks for the caller's client certificate like agent/server.ts and
// answers GET /v1/status with a real-sized status body, its ETag, and 304 on If-None-Match.
// Run: node sim-agents.js SPEC.json (SPEC: {caCertFile, caKeyFile, first, count, port}); prints
// "ready" once every address listens. Keys come from files, never argv.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { KEEP_ALIVE_MS, statusEtag } from '../agent/server.js';
import { requireRole } from '../pki/index.js';
import type { AgentStatus } from '../protocol/status.js';
import { agentIssuer, NAME_WIDTH } from './sim-certs.js';

export const simName = (i: number) => 'n' + String(i).padStart(NAME_WIDTH - 1, '0');
export const simAddress = (i: number) => `127.${Math.floor(i / 62_500) + 1}.${(Math.floor(i / 250) % 250) + 1}.${(i % 250) + 1}`;

/** A converged worker's status (keyring, unit, kubelet binary, rbd + cephfs-quota probes): ~1.1 KB of JSON. */
export function sampleStatus(node: string): AgentStatus {
  const at = '2026-12-01T22:00:00.000Z';
  return {
    agent: { version: '0.1.0', pid: 4242, startedAt: '2026-12-01T21:59:58.000Z', node },
    facts: { hostname: node, addresses: ['10.0.0.5'], runtime: 'rkt' },
    desired: { generation: 7, nodeGroup: 'workers', acceptedAt: '2026-12-01T21:59:50.000Z' },
    converged: true,
    ready: true,
    steps: [
      { name: 'packages', state: 'converged', message: 'ceph-common 16.2.15 installed', durationMs: 41, at },
      { name: 'keyring', state: 'converged', message: '/etc/ceph/ceph.client.kube.keyring and ceph.conf match', durationMs: 3, at },
      { name: 'unit', state: 'converged', message: 'RKT_RUN_ARGS carries the /etc/ceph volume and mount', durationMs: 12, at },
      { name: 'artifact', state: 'converged', message: 'kubelet 1.10.13-ceph1 in place, /healthz ok', durationMs: 8, at },
      { name: 'probes', state: 'converged', message: 'rbd and cephfs-quota probes pass', durationMs: 1840, at },
    ],
    kubelet: { version: '1.10.13-ceph1', sha256: 'c0ffee'.repeat(10) + 'c0ff', lastGood: { version: '1.10.13-ceph1', sha256: 'c0ffee'.repeat(10) + 'c0ff' } },
    lastReconcile: { at, durationMs: 1904, trigger: 'schedule', ok: true, generation: 7 },
    recovery: null,
    lastError: null,
    probes: [
      { name: 'rbd', status: 'pass', ok: true, durationMs: 912, details: { pool: 'kube', image: 'nodewright-probe', bytes: 4096 } },
      { name: 'cephfs-quota', status: 'pass', ok: true, durationMs: 928, details: { quotaBytes: 1048576, dfBytes: 1048576, bytesBeforeEdquot: 1048576 } },
    ],
    rollbacks: 0,
    reconciles: 31,
    inflight: null,
  };
}

interface Spec {
  caCertFile: string;
  caKeyFile: string;
  first: number;
  count: number;
  port: number;
  /** Write `{ name: sha256 of its certificate }` here: the poller pins the enrolled certificate. */
  fingerprintsFile?: string;
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Spec;
  const ca = { certPem: readFileSync(spec.caCertFile, 'utf8'), keyPem: readFileSync(spec.caKeyFile, 'utf8') };
  const issuer = await agentIssuer(ca);
  const contexts = new Map<string, SecureContext>();
  const bodies = new Map<string, { body: string; etag: string }>();
  // every node's TLS context before "ready": the first round's handshakes then cost what an agent's do
  const fingerprints: Record<string, string> = {};
  const contextOf = (name: string): SecureContext => {
    let c = contexts.get(name);
    if (!c) {
      const cert = issuer.issue(name);
      fingerprints[name] = new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase();
      contexts.set(name, (c = createSecureContext({ cert, key: issuer.keyPem, ca: ca.certPem })));
    }
    return c;
  };
  for (let k = 0; k < spec.count; k++) contextOf(simName(spec.first + k));
  if (spec.fingerprintsFile) writeFileSync(spec.fingerprintsFile, JSON.stringify(fingerprints));
  const server = https.createServer(
    {
      SNICallback: (name, cb) => cb(null, contextOf(name)),
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      keepAliveTimeout: KEEP_ALIVE_MS,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      try {
        requireRole(socket.getPeerCertificate(), socket.authorized, ['controller', 'operator']);
      } catch (e) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NW_AUTH', message: (e as Error).message }));
        return;
      }
      const name = socket.servername || '';
      let b = bodies.get(name);
      if (!b) {
        const body = JSON.stringify(sampleStatus(name));
        bodies.set(name, (b = { body, etag: statusEtag(body) }));
      }
      if (req.headers['if-none-match'] === b.etag) res.writeHead(304, { etag: b.etag }).end();
      else res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', etag: b.etag, 'content-length': Buffer.byteLength(b.body) }).end(b.body);
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await Promise.all(
    Array.from({ length: spec.count }, (_, k) => {
      const l = net.createServer({ pauseOnConnect: false }, (sock) => server.emit('connection', sock));
      return new Promise<void>((resolve, reject) => {
        l.once('error', reject);
        l.listen({ host: simAddress(spec.first + k), port: spec.port, backlog: 64 }, () => resolve());
      });
    }),
  );
  process.stdout.write('ready\n');
}

if (process.argv[1]?.endsWith('sim-agents.js')) {
  main().catch((e) => {
    process.stderr.write(`sim-agents: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
