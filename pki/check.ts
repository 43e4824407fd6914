// Checks of a TLS cert/key/CA triple before serving: the key is the cert's, the cert chains to the CA
// and is valid now. node:crypto only, so the agent's start-up does not load the certificate library.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { NwError } from '../host/errors.js';

function cert(pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new NwError('NW_TLS', `${file} is not a PEM certificate (${(e as Error).message}): point tls.cert / tls.ca at the files from \`nodewright ca issue\` / \`ca init\``);
  }
}

function key(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new NwError('NW_TLS', `${file} is not a PEM private key (${(e as Error).message}): point tls.key at the key the certificate was issued for`);
  }
}

/** Throws NW_TLS with what to do when the triple cannot serve; `now` for tests. */
export function checkTlsMaterial(m: { certPem: string; keyPem: string; caPem: string; files: { cert: string; key: string; ca: string } }, now = new Date()): void {
  const leaf = cert(m.certPem, m.files.cert);
  const ca = cert(m.caPem, m.files.ca);
  if (!leaf.checkPrivateKey(key(m.keyPem, m.files.key))) {
    throw new NwError('NW_TLS', `${m.files.key} is not the key of ${m.files.cert}: install the key the certificate's CSR was made with`);
  }
  if (!ca.ca) throw new NwError('NW_TLS', `${m.files.ca} is not a CA certificate: use the fleet's ca.crt from \`nodewright ca init\``);
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new NwError('NW_TLS', `${m.files.cert} is not signed by the CA in ${m.files.ca}: issue it with \`nodewright ca issue\` from that CA`);
  }
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    throw new NwError('NW_TLS', `${m.files.cert} is valid ${leaf.validFrom} .. ${leaf.validTo}, not now: issue a new certificate (and check the clock)`);
  }
}
