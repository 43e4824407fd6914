// What every client of the controller checks (the controller role, not only the CA and the name),
// short lifetimes for renewal tests, and re-issuing a certificate for a key that stays.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentAltNames } from '../../../controller/fleet/enroll.js';
import { checkControllerIdentity, createCa, createKeyAndCsr, identityOf, peerAltNames, reissue, signCsr, type Role } from '../../../pki/index.js';
import { validityMs, CLOCK_SKEW_MS } from '../../../pki/serial.js';

let ca: { certPem: string; keyPem: string };
beforeAll(async () => {
  ca = await createCa({ commonName: 'fleet CA' });
});

/** The shape node:tls hands checkServerIdentity (subject as an object, subjectaltname as text). */
function peerOf(pem: string): PeerCertificate {
  const c = new X509Certificate(pem);
  const subject: Record<string, string> = {};
  for (const line of c.subject.split('\n')) subject[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  return { subject, subjectaltname: c.subjectAltName, fingerprint256: c.fingerprint256 } as unknown as PeerCertificate;
}

async function issue(role: Role, name: string, alt: { dnsNames?: string[]; ipAddresses?: string[] } = {}) {
  const { csrPem, keyPem } = await createKeyAndCsr({ commonName: name });
  return { ...(await signCsr({ ca, csrPem, role, name, ...alt })), keyPem };
}

describe('checkControllerIdentity', () => {
  it('passes the controller certificate for a name it carries', async () => {
    const c = await issue('controller', 'controller', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    expect(checkControllerIdentity('127.0.0.1', peerOf(c.certPem))).toBeUndefined();
    expect(checkControllerIdentity('localhost', peerOf(c.certPem))).toBeUndefined();
  });

  it('refuses a worker certificate even when it names the host (the impostor of issue 16)', async () => {
    const impostor = await issue('agent', 'localhost', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const e = checkControllerIdentity('127.0.0.1', peerOf(impostor.certPem));
    expect(e).toMatchObject({ code: 'NW_TLS' });
    expect(e?.message).toMatch(/certificate of agent localhost, not of the controller/);
    const op = await issue('operator', 'alice', { ipAddresses: ['127.0.0.1'] });
    expect(checkControllerIdentity('127.0.0.1', peerOf(op.certPem))?.message).toMatch(/operator alice, not of the controller/);
  });

  it('refuses a controller certificate for another host name', async () => {
    const c = await issue('controller', 'controller', { dnsNames: ['ctl.example'] });
    expect(checkControllerIdentity('127.0.0.1', peerOf(c.certPem))).toMatchObject({ code: 'NW_TLS' });
  });
});

describe('agent certificates at enrolment', () => {
  it('carry the node name and the address the controller dials, never the joiner\'s own choice', () => {
    expect(agentAltNames('w1', 'https://10.0.0.5:7701', 'worker-1')).toEqual({ dnsNames: ['w1', 'worker-1'], ipAddresses: ['10.0.0.5'] });
    expect(agentAltNames('w_1', 'https://[::1]:7701')).toEqual({ dnsNames: [], ipAddresses: ['::1'] });
    expect(agentAltNames('w1', 'https://w1.example:7701')).toEqual({ dnsNames: ['w1', 'w1.example'], ipAddresses: [] });
  });

  it('peerAltNames reads back what was signed', async () => {
    const c = await issue('agent', 'w1', { dnsNames: ['w1'], ipAddresses: ['10.0.0.5'] });
    expect(peerAltNames(peerOf(c.certPem))).toEqual({ dnsNames: ['w1'], ipAddresses: ['10.0.0.5'] });
  });
});

describe('lifetimes', () => {
  it('validSeconds gives a short lifetime whose 2/3 point lies after the moment of issue', async () => {
    const t0 = Date.now();
    const c = await signCsr({ ca, csrPem: (await createKeyAndCsr({ commonName: 'w1' })).csrPem, role: 'agent', name: 'w1', validSeconds: 120 });
    const x = new X509Certificate(c.certPem);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    expect(to - t0).toBeGreaterThan(110_000);
    expect(to - t0).toBeLessThan(125_000);
    expect(from + ((to - from) * 2) / 3).toBeGreaterThan(t0 + 60_000);
    expect(c.notAfter.getTime()).toBe(to);
  });

  it('refuses lifetimes under a minute and keeps the 5-minute back-dating for long ones', async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: 'w1' });
    await expect(signCsr({ ca, csrPem, role: 'agent', name: 'w1', validSeconds: 59 })).rejects.toMatchObject({ code: 'NW_PKI' });
    await expect(signCsr({ ca, csrPem, role: 'agent', name: 'w1', validSeconds: 90.5 })).rejects.toMatchObject({ code: 'NW_PKI' });
    expect(validityMs(365 * 86_400_000, 1e12).notBefore.getTime()).toBe(1e12 - CLOCK_SKEW_MS);
    expect(validityMs(120_000, 1e12).notBefore.getTime()).toBe(1e12 - 12_000);
  });
});

describe('reissue (nodewright certs renew)', () => {
  it('keeps the key, name, role and names; only the validity is new', async () => {
    const old = await issue('controller', 'controller', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const r = await reissue({ ca, certPem: old.certPem, keyPem: old.keyPem, validDays: 30, what: 'controller.crt' });
    const a = new X509Certificate(old.certPem);
    const b = new X509Certificate(r.certPem);
    expect(identityOf(b)).toEqual({ name: 'controller', role: 'controller' });
    expect(b.subjectAltName).toBe(a.subjectAltName);
    expect(b.publicKey.equals(a.publicKey)).toBe(true);
    expect(b.serialNumber).not.toBe(a.serialNumber);
    expect(Date.parse(b.validTo) - Date.now()).toBeLessThan(31 * 86_400_000);
  });

  it('refuses a key that is not the certificate\'s', async () => {
    const a = await issue('operator', 'operator');
    const b = await issue('operator', 'operator');
    await expect(reissue({ ca, certPem: a.certPem, keyPem: b.keyPem, what: 'operator.crt' })).rejects.toMatchObject({ code: 'NW_PKI' });
  });
});
