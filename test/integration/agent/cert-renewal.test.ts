// The agent's side of certificate renewal against stand-in controllers on loopback (real TLS, real
// certificates of a test fleet CA): an honest one signs the CSR and the files are replaced (key
// staged first, nothing left over); a hostile or broken one (a certificate for another node, a
// refusal, nobody listening, a worker's certificate) changes nothing on disk and is a coded error.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { renewOnce, startCertRenewal } from '../../../agent/cert-renewal.js';
import { isNwError } from '../../../host/errors.js';
import { createCa, createKeyAndCsr, signCsr, type Role } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { freePort } from './fixture.js';

type Ca = { certPem: string; keyPem: string };
let ca: Ca;
const servers: https.Server[] = [];

async function issue(role: Role, name: string, validSeconds?: number) {
  const { csrPem, keyPem } = await createKeyAndCsr({ commonName: name });
  const { certPem } = await signCsr({ ca, csrPem, role, name, ipAddresses: ['127.0.0.1'], ...(validSeconds ? { validSeconds } : {}) });
  return { cert: certPem, key: keyPem };
}

/** A stand-in controller: `answer` gets the CSR and says what to send back. */
async function controller(role: Role, answer: (csr: string) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>): Promise<string> {
  const tlsPair = await issue(role, role === 'controller' ? 'controller' : 'w9');
  const server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let t = '';
    req.on('data', (c) => (t += c));
    req.on('end', async () => {
      const a = await answer(JSON.parse(t).csr);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function worker(validSeconds?: number) {
  const dir = tempDir('nw-renew-');
  const pair = await issue('agent', 'w1', validSeconds);
  const tls = { cert: path.join(dir, 'agent.crt'), key: path.join(dir, 'agent.key'), ca: path.join(dir, 'ca.crt') };
  writeFileSync(tls.cert, pair.cert);
  writeFileSync(tls.key, pair.key, { mode: 0o600 });
  writeFileSync(tls.ca, ca.certPem);
  const files = () => [readFileSync(tls.cert, 'utf8'), readFileSync(tls.key, 'utf8')];
  return { dir, tls, files, before: files() };
}

const log = pino({ level: 'silent' });
const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e) => (isNwError(e) ? `${e.code}: ${e.message}` : `uncoded: ${String(e)}`));

beforeAll(async () => {
  ca = await createCa({ commonName: 'renewal test CA' });
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('renewOnce', () => {
  it('an honest controller: the new certificate and key replace the old ones, nothing staged is left', async () => {
    const w = await worker();
    const url = await controller('controller', async (csr) => ({ status: 200, body: { node: 'w1', cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w1', ipAddresses: ['127.0.0.1'] })).certPem } }));
    const pems = await renewOnce({ controller: url, node: 'w1', tls: w.tls, log, onRenewed: () => undefined });
    const [cert, key] = w.files();
    expect(cert).toBe(pems.certPem);
    expect(cert).not.toBe(w.before[0]);
    expect(key).not.toBe(w.before[1]);
    expect(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(existsSync(`${w.tls.key}.next`)).toBe(false);
  });

  it('a certificate for another node, a refusal, nobody listening, a worker posing as the controller: coded, nothing changed', async () => {
    const w = await worker();
    const other = await controller('controller', async (csr) => ({ status: 200, body: { cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w2' })).certPem } }));
    expect(await outcome(renewOnce({ controller: other, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_RENEW: the renewed certificate is not for agent w1/);
    const refusing = await controller('controller', async () => ({ status: 401, body: { code: 'NW_AUTH', message: 'not the pinned certificate' } }));
    expect(await outcome(renewOnce({ controller: refusing, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_AUTH: the controller refused the certificate renewal \(401\): not the pinned/);
    const nobody = `https://127.0.0.1:${await freePort()}`;
    expect(await outcome(renewOnce({ controller: nobody, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_RENEW: cannot reach the controller/);
    const impostor = await controller('agent', async (csr) => ({ status: 200, body: { cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w1' })).certPem } }));
    expect(await outcome(renewOnce({ controller: impostor, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_TLS: .*agent w9, not of the controller/);
    expect(w.files()).toEqual(w.before);
    expect(existsSync(`${w.tls.key}.next`)).toBe(false);
  });
});

describe('renewal against an HA follower', () => {
  /** A follower: every renewal answered 307 to `leader` + the same path, like an HA controller that does not lead. */
  const follower = (leader: () => string, role: Role = 'controller') => controller(role, async () => ({ status: 307, body: { code: 'NW_NOT_LEADER', message: 'not the leader' }, headers: { location: `${leader()}/v1/renew` } }));

  it('follows the 307 to the leader with the same CSR; the leader\'s certificate is written', async () => {
    const w = await worker();
    const csrs: string[] = [];
    const leader = await controller('controller', async (csr) => {
      csrs.push(csr);
      return { status: 200, body: { node: 'w1', cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w1', ipAddresses: ['127.0.0.1'] })).certPem } };
    });
    const url = await follower(() => leader);
    const pems = await renewOnce({ controller: url, node: 'w1', tls: w.tls, log, onRenewed: () => undefined });
    expect(csrs).toHaveLength(1);
    expect(w.files()[0]).toBe(pems.certPem);
    expect(w.files()[0]).not.toBe(w.before[0]);
  });

  it('a redirect to a worker posing as the controller, to http, or in a loop: coded, nothing changed', async () => {
    const w = await worker();
    let asked = 0;
    const impostor = await controller('agent', async (csr) => {
      asked++;
      return { status: 200, body: { cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w1' })).certPem } };
    });
    expect(await outcome(renewOnce({ controller: await follower(() => impostor), node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_TLS: .*not of the controller/);
    expect(asked).toBe(0);
    expect(await outcome(renewOnce({ controller: await follower(() => impostor.replace('https:', 'http:')), node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_TLS: .*refusing to follow/);
    let self = '';
    self = await follower(() => self);
    expect(await outcome(renewOnce({ controller: self, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }))).toMatch(/^NW_PUSH: the controllers redirected \/v1\/renew more than 2 times/);
    expect(w.files()).toEqual(w.before);
  });
});

describe('a rate-limited renewal', () => {
  it('429 with Retry-After: NW_RATE_LIMIT carrying the wait, counted as the last renewal error with the renewal point', async () => {
    const w = await worker(60);
    const url = await controller('controller', async () => ({ status: 429, body: { code: 'NW_RATE_LIMIT', message: 'too many certificate renewals of node w1; wait 600 s and try again' }, headers: { 'retry-after': '600' } }));
    const e = await renewOnce({ controller: url, node: 'w1', tls: w.tls, log, onRenewed: () => undefined }).catch((x) => x);
    expect(e).toMatchObject({ code: 'NW_RATE_LIMIT', details: { retryAfterMs: 600_000 } });
    expect(w.files()).toEqual(w.before);
    const r = startCertRenewal({ controller: url, node: 'w1', tls: w.tls, log, onRenewed: () => undefined, now: () => Date.now() + 45_000 });
    try {
      const t0 = Date.now();
      while (!r.counters.lastError && Date.now() - t0 < 15_000) await new Promise((res) => setTimeout(res, 50));
      expect(r.counters).toMatchObject({ renewals: 0, failures: 1, lastError: { code: 'NW_RATE_LIMIT', at: expect.any(String) }, renewAt: expect.any(String), notAfter: expect.any(String) });
      expect(Date.parse(r.counters.renewAt!)).toBeLessThan(Date.parse(r.counters.notAfter!));
    } finally {
      r.stop();
    }
  });
});

describe('startCertRenewal', () => {
  it('renews at once when past 2/3, retries a refusing controller with backoff and counts it, then renews', async () => {
    // a 60 s certificate, then 45 s later by the injected clock: past its renewal point
    const w = await worker(60);
    let refuse = 1;
    let calls = 0;
    const url = await controller('controller', async (csr) => {
      calls++;
      if (refuse-- > 0) return { status: 503, body: { code: 'NW_STATE', message: 'busy' } };
      return { status: 200, body: { cert: (await signCsr({ ca, csrPem: csr, role: 'agent', name: 'w1', ipAddresses: ['127.0.0.1'], validSeconds: 600 })).certPem } };
    });
    const renewed: string[] = [];
    const offset = 45_000;
    const r = startCertRenewal({ controller: url, node: 'w1', tls: w.tls, log, onRenewed: (p) => renewed.push(p.certPem), now: () => Date.now() + offset });
    try {
      const t0 = Date.now();
      while (!renewed.length && Date.now() - t0 < 15_000) await new Promise((res) => setTimeout(res, 50));
      expect(renewed).toHaveLength(1);
      expect(calls).toBe(2);
      expect(r.counters).toMatchObject({ renewals: 1, failures: 1, lastError: null });
      expect(Date.parse(r.counters.notAfter!) - Date.now()).toBeGreaterThan(500_000);
      expect(w.files()[0]).toBe(renewed[0]);
    } finally {
      r.stop();
    }
  }, 30_000);
});
