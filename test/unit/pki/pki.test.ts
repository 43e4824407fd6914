import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { caCertHash, checkTlsMaterial, createCa, createKeyAndCsr, identityOf, requireRole, requestedAltNames, readCsr, signCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';

let ca: { certPem: string; keyPem: string };
let foreign: { certPem: string; keyPem: string };
beforeAll(async () => {
  ca = await createCa({ commonName: 'fleet CA' });
  foreign = await createCa({ commonName: 'other CA' });
});

const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

describe('pki', () => {
  it('issues a certificate that verifies against its CA and not against a foreign one', async () => {
    const { csrPem, keyPem } = await createKeyAndCsr({ commonName: 'worker-1' });
    const { certPem } = await signCsr({ ca, csrPem, role: 'agent', name: 'worker-1', dnsNames: ['worker-1.example'], ipAddresses: ['127.0.0.1'] });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(foreign.certPem).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:worker-1.example, IP Address:127.0.0.1');
    expect(identityOf(cert)).toEqual({ name: 'worker-1', role: 'agent' });
    expect(() => checkTlsMaterial({ certPem, keyPem, caPem: ca.certPem, files: { cert: 'c', key: 'k', ca: 'a' } })).not.toThrow();
    expect(await code(() => checkTlsMaterial({ certPem, keyPem, caPem: foreign.certPem, files: { cert: 'c', key: 'k', ca: 'a' } }))).toBe('NW_TLS');
    expect(await code(() => checkTlsMaterial({ certPem, keyPem: ca.keyPem, caPem: ca.certPem, files: { cert: 'c', key: 'k', ca: 'a' } }))).toBe('NW_TLS');
  });

  it('names the role in O and sets key usages by role (operator and metrics: client only)', async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: 'x' });
    for (const role of ['agent', 'controller', 'operator', 'metrics'] as const) {
      const { certPem } = await signCsr({ ca, csrPem, role, name: `n-${role}` });
      const cert = new X509Certificate(certPem);
      expect(identityOf(cert)).toEqual({ name: `n-${role}`, role });
      const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: certPem }).toString();
      expect(text.includes('TLS Web Client Authentication')).toBe(true);
      expect(text.includes('TLS Web Server Authentication')).toBe(role === 'agent' || role === 'controller');
    }
  });

  it('CA certificate is a CA limited to leaves; openssl verifies the chain', async () => {
    const dir = tempDir('nw-pki-');
    const { csrPem } = await createKeyAndCsr({ commonName: 'c' });
    const { certPem } = await signCsr({ ca, csrPem, role: 'controller', name: 'ctl' });
    writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(path.join(dir, 'leaf.crt'), certPem);
    const caText = execFileSync('openssl', ['x509', '-noout', '-ext', 'basicConstraints'], { input: ca.certPem }).toString();
    expect(caText).toMatch(/CA:TRUE, pathlen:0/);
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'leaf.crt')]).toString()).toMatch(/OK/);
  });

  it('caCertHash is stable and equals openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum', () => {
    const expected = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum'], { input: ca.certPem }).toString().split(' ')[0];
    expect(caCertHash(ca.certPem)).toBe(`sha256:${expected}`);
    expect(caCertHash(ca.certPem)).toBe(caCertHash(ca.certPem));
    expect(caCertHash(foreign.certPem)).not.toBe(caCertHash(ca.certPem));
  });

  it('reads the alt names a CSR requests, and refuses a tampered CSR or bad inputs with NW_PKI', async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: 'w', dnsNames: ['w.example'], ipAddresses: ['10.0.0.5'] });
    expect(requestedAltNames(await readCsr(csrPem))).toEqual({ dnsNames: ['w.example'], ipAddresses: ['10.0.0.5'] });
    expect(await code(signCsr({ ca, csrPem: 'junk', role: 'agent', name: 'w' }))).toBe('NW_PKI');
    expect(await code(signCsr({ ca, csrPem, role: 'root' as never, name: 'w' }))).toBe('NW_PKI');
    expect(await code(signCsr({ ca, csrPem, role: 'agent', name: 'bad\nname' }))).toBe('NW_PKI');
    expect(await code(signCsr({ ca: { certPem: ca.certPem, keyPem: foreign.keyPem }, csrPem, role: 'agent', name: 'w' }))).toBe('NW_PKI');
    expect(await code(signCsr({ ca, csrPem, role: 'agent', name: 'w', ipAddresses: ['300.1.1.1'] }))).toBe('NW_PKI');
    expect(await code(createKeyAndCsr({ commonName: 'w', dnsNames: ['bad name'] }))).toBe('NW_PKI');
    // a CSR whose signature no longer matches its content (one byte of the body changed)
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[40] ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await code(readCsr(tampered))).toBe('NW_PKI');
  });

  it('identityOf reads node X509Certificate and PeerCertificate subjects; ambiguous or foreign subjects give null', () => {
    expect(identityOf({ subject: 'CN=w1\nO=nodewright:operator' })).toEqual({ name: 'w1', role: 'operator' });
    expect(identityOf({ subject: { CN: 'w1', O: 'nodewright:controller' } } as never)).toEqual({ name: 'w1', role: 'controller' });
    expect(identityOf({ subject: { CN: 'w1', O: ['nodewright:agent', 'nodewright:controller'] } } as never)).toBeNull();
    expect(identityOf({ subject: 'CN=w1\nO=acme' })).toBeNull();
    expect(identityOf({ subject: 'CN=w1\nO=nodewright:root' })).toBeNull();
    expect(identityOf({ subject: 'O=nodewright:agent' })).toBeNull();
  });

  it('requireRole: no cert or unauthorized → NW_AUTH, wrong role → NW_FORBIDDEN', async () => {
    const peer = { subject: { CN: 'ctl', O: 'nodewright:controller' } } as never;
    expect(requireRole(peer, true, ['controller', 'operator'])).toEqual({ name: 'ctl', role: 'controller' });
    expect(await code(() => requireRole(undefined, false, ['controller']))).toBe('NW_AUTH');
    expect(await code(() => requireRole({} as never, false, ['controller']))).toBe('NW_AUTH');
    expect(await code(() => requireRole(peer, false, ['controller']))).toBe('NW_AUTH');
    expect(await code(() => requireRole(peer, true, ['operator']))).toBe('NW_FORBIDDEN');
    expect(await code(() => requireRole({ subject: { CN: 'x', O: 'acme' } } as never, true, ['operator']))).toBe('NW_FORBIDDEN');
  });
});
