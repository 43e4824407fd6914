// The fleet CA: a self-signed ECDSA P-256 certificate that may only sign leaf certificates (pathLen 0).
import { X509Certificate, createHash } from 'node:crypto';
import { NwError } from '../host/errors.js';
import { generateKeys, privateKeyPem, SIGNING } from './keys.js';
import { randomSerial, validity } from './serial.js';
import { x509 } from './x509.js';

export const CA_VALID_DAYS = 3650;

export async function createCa(opts: { commonName: string; validDays?: number }): Promise<{ certPem: string; keyPem: string }> {
  if (!opts.commonName.trim() || /[\n\r]/.test(opts.commonName)) throw new NwError('NW_PKI', 'the CA common name must be one non-empty line');
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName] }],
    ...validity(opts.validDays ?? CA_VALID_DAYS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: (await privateKeyPem(keys)) + '\n' };
}

export function parseCert(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new NwError('NW_PKI', `${what} is not a PEM certificate (${(e as Error).message})`);
  }
}

/** kubeadm-style pin of a CA: `sha256:<hex>` over the DER of its SubjectPublicKeyInfo. */
export function caCertHash(caCertPem: string): string {
  const spki = parseCert(caCertPem, 'the CA certificate').publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
