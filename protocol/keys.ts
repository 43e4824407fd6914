// ed25519 keys of bundle and artifact signing: generation, PEM loading with coded errors, key ids.
// No schemas here: the controller loads its signing key at start, before anything heavy.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { NwError } from '../host/errors.js';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKeys(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Parse a PEM key and insist on ed25519; anything else is NW_SIGNATURE with `hint`. */
function ed25519Key(create: (pem: string) => KeyObject, pem: string, hint: (why: string) => string): KeyObject {
  try {
    const k = create(pem);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`key type is ${k.asymmetricKeyType}`);
    return k;
  } catch (e) {
    throw new NwError('NW_SIGNATURE', hint((e as Error).message));
  }
}

export const loadPrivateKey = (pem: string): KeyObject =>
  ed25519Key(createPrivateKey, pem, (why) => `the signing key is not an ed25519 private key (${why}): create one with \`nodewright keygen\``);

export const loadPublicKey = (pem: string): KeyObject =>
  ed25519Key(createPublicKey, pem, (why) => `the pinned public key is not an ed25519 public key (${why}): copy the controller's .pub file from \`nodewright keygen\``);

/** Short, stable id of a public key: first 16 hex of sha256(spki DER). */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}
