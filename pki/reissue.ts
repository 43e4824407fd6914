// A new certificate for a key that already exists (`nodewright certs renew`): same subject (name,
// role), same subjectAltNames, a fresh validity. The key stays, so only the certificate file
// changes: one atomic write, no window where key and certificate disagree.
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { NwError } from '../host/errors.js';
import { identityOf, parseAltNames } from './identity.js';
import { signCsr } from './issue.js';
import { EC_KEY, SIGNING } from './keys.js';
import { x509 } from './x509.js';

export async function reissue(opts: { ca: { certPem: string; keyPem: string }; certPem: string; keyPem: string; validDays?: number; what: string }): Promise<{ certPem: string; notAfter: Date }> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(opts.certPem);
  } catch (e) {
    throw new NwError('NW_PKI', `${opts.what} is not a PEM certificate (${(e as Error).message})`);
  }
  const id = identityOf(cert);
  if (!id) throw new NwError('NW_PKI', `${opts.what} carries no nodewright identity (O=nodewright:<role>): issue it anew with \`nodewright ca issue\``);
  let key;
  try {
    key = createPrivateKey(opts.keyPem);
  } catch (e) {
    throw new NwError('NW_PKI', `the key of ${opts.what} is not a PEM private key (${(e as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new NwError('NW_PKI', `the key beside ${opts.what} is not its key: put the matching key back, or issue both anew`);
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_KEY, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', cert.publicKey.export({ type: 'spki', format: 'der' }), EC_KEY, true, ['verify']),
  } as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: [id.name] }], keys, signingAlgorithm: SIGNING });
  return signCsr({ ca: opts.ca, csrPem: csr.toString('pem'), role: id.role, name: id.name, validDays: opts.validDays, ...parseAltNames(cert.subjectAltName) });
}
