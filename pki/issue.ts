// Sign a CSR as the fleet CA. The role is carried in the subject (O=nodewright:<role>) and the key usages
// follow it: agent and controller certificates serve and call over TLS, operator and metrics certificates only call.
// The subjectAltNames are the signer's choice (opts), never copied silently from the request.
import { createPrivateKey } from 'node:crypto';
import { NwError } from '../host/errors.js';
import { parseCert } from './ca.js';
import { altNamesExtension, readCsr, type AltNames } from './csr.js';
import { NAME_PATTERN, ROLE_PREFIX, isRole, type Role } from './identity.js';
import { importSigningKey, SIGNING } from './keys.js';
import { DAY_MS, randomSerial, validityMs } from './serial.js';
import { x509 } from './x509.js';

export const LEAF_VALID_DAYS = 365;
/** The shortest lifetime a leaf may be given (validSeconds; tests of renewal use minutes). */
export const LEAF_MIN_SECONDS = 60;

export async function signCsr(
  opts: { ca: { certPem: string; keyPem: string }; csrPem: string; role: Role; name: string; validDays?: number; validSeconds?: number } & AltNames,
): Promise<{ certPem: string; notAfter: Date }> {
  if (!isRole(opts.role)) throw new NwError('NW_PKI', `role "${String(opts.role)}" unknown: use agent, controller, operator or metrics`);
  if (!NAME_PATTERN.test(opts.name)) throw new NwError('NW_PKI', `name "${opts.name}" is not allowed: use letters, digits, '.', '_' and '-' (at most 128)`);
  const validDays = opts.validDays ?? LEAF_VALID_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1) throw new NwError('NW_PKI', `validDays ${validDays} must be a whole number of days >= 1`);
  const { validSeconds } = opts;
  if (validSeconds !== undefined && (!Number.isInteger(validSeconds) || validSeconds < LEAF_MIN_SECONDS)) {
    throw new NwError('NW_PKI', `validSeconds ${validSeconds} must be a whole number of seconds >= ${LEAF_MIN_SECONDS}`);
  }
  const lifetime = validSeconds !== undefined ? validSeconds * 1000 : validDays * DAY_MS;

  const caCert = parseCert(opts.ca.certPem, 'the CA certificate');
  if (!caCert.ca) throw new NwError('NW_PKI', 'the CA certificate is not a CA (basicConstraints CA:FALSE): use the ca.crt from `nodewright ca init`');
  const signingKey = await importSigningKey(opts.ca.keyPem, 'the CA key');
  if (!caCert.checkPrivateKey(createPrivateKey(opts.ca.keyPem))) {
    throw new NwError('NW_PKI', 'the CA key does not belong to the CA certificate: use ca.key and ca.crt from the same `nodewright ca init`');
  }
  const csr = await readCsr(opts.csrPem);
  const issuer = new x509.X509Certificate(opts.ca.certPem);

  const server = opts.role === 'agent' || opts.role === 'controller';
  const usages = server ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth];
  const san = altNamesExtension(opts);
  const { notBefore, notAfter: wanted } = validityMs(lifetime);
  const caNotAfter = new Date(caCert.validTo);
  const notAfter = wanted > caNotAfter ? caNotAfter : wanted; // never outlive the CA
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [opts.name] }, { O: [`${ROLE_PREFIX}${opts.role}`] }],
    issuer: issuer.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: csr.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
      ...(san ? [san] : []),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', notAfter: cert.notAfter };
}
