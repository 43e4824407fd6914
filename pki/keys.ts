// ECDSA P-256 keys: generated in WebCrypto, stored as PKCS#8 PEM, read back from PKCS#8 or SEC1 PEM
// (openssl's `BEGIN EC PRIVATE KEY`) so keys made by other tools are accepted too.
import { createPrivateKey, webcrypto } from 'node:crypto';
import { NwError } from '../host/errors.js';
import { x509 } from './x509.js';

export const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A PEM private key as a WebCrypto signing key; NW_PKI when it is not an ECDSA P-256 key. */
export async function importSigningKey(pem: string, what: string): Promise<CryptoKey> {
  try {
    const k = createPrivateKey(pem);
    if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`key type is ${k.asymmetricKeyType} ${k.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
    }
    const der = k.export({ type: 'pkcs8', format: 'der' });
    return await webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
  } catch (e) {
    throw new NwError('NW_PKI', `${what} is not an ECDSA P-256 private key (${(e as Error).message}): create it with \`nodewright ca init\``);
  }
}
