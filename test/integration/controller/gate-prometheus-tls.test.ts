// The prometheus gate's transport options: a CA file, a client certificate and a bearer token file,
// against a stand-in of Prometheus's HTTP API (https on 127.0.0.1, client certificates required,
// the token checked; Debian's Prometheus serves TLS only with a web config file, the gate's own code
// path is what is tested here). A wrong token or a server the CA does not vouch for holds the gate.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkPrometheus } from '../../../controller/gates/prometheus.js';
import { tempDir } from '../../tmp.js';
import { fleet, type Fleet } from '../agent/pki-fixture.js';

const TOKEN = 'gate-token-7f3a';
let f: Fleet;
let server: https.Server;
let url: string;
let dir: string;
const seen: { token: string | undefined; clientCn: string | undefined }[] = [];

beforeAll(async () => {
  f = await fleet();
  server = https.createServer({ cert: f.agent.cert, key: f.agent.key, ca: f.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    seen.push({ token: req.headers.authorization, clientCn: peer.subject?.CN === undefined ? undefined : String(peer.subject.CN) });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', error: 'bad token' }));
      return;
    }
    const alerts = [{ labels: { alertname: 'CephHealthWarning' }, state: 'firing' }];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { alerts } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = tempDir('nw-gate-tls-');
  const file = (name: string, text: string) => (writeFileSync(path.join(dir, name), text, { mode: 0o600 }), path.join(dir, name));
  file('ca.crt', f.ca.certPem);
  file('client.crt', f.clients.metrics.cert);
  file('client.key', f.clients.metrics.key);
  file('token', `${TOKEN}\n`);
  file('wrong-token', 'nope\n');
  file('foreign-ca.crt', f.foreignCa.certPem);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const spec = (over: Record<string, unknown> = {}) => ({
  url, alerts: '^Ceph', firingOnly: true,
  tls: { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'client.crt'), keyFile: path.join(dir, 'client.key'), serverName: 'worker-1' },
  bearerTokenFile: path.join(dir, 'token'),
  ...over,
});

it('reaches Prometheus over mutual TLS with the bearer token from its file, and judges the alerts', async () => {
  const v = await checkPrometheus(spec() as never, 5000);
  expect(v).toMatchObject({ pass: false, message: expect.stringContaining('CephHealthWarning firing') });
  expect(seen.at(-1)).toEqual({ token: `Bearer ${TOKEN}`, clientCn: 'prometheus' });
});

it('a wrong token holds the gate with the answer Prometheus gave', async () => {
  const v = await checkPrometheus(spec({ bearerTokenFile: path.join(dir, 'wrong-token') }) as never, 5000);
  expect(v).toMatchObject({ pass: false, message: expect.stringMatching(/prometheus alerts failed: prometheus answered 401: bad token/) });
});

it('a server the gate\'s CA does not vouch for, or no client certificate: the gate holds, it never passes', async () => {
  const foreign = await checkPrometheus(spec({ tls: { caFile: path.join(dir, 'foreign-ca.crt'), serverName: 'worker-1' } }) as never, 5000);
  expect(foreign.pass).toBe(false);
  expect(foreign.message).toMatch(/prometheus unreachable/);
  const anonymous = await checkPrometheus(spec({ tls: { caFile: path.join(dir, 'ca.crt'), serverName: 'worker-1' } }) as never, 5000);
  expect(anonymous.pass).toBe(false);
});
