// Signed bundles: ed25519 over a domain tag + the canonical JSON of the desired state.
// The signature covers everything in `desired`, including the kubelet artifact's sha256 and size,
// so a verified bundle pins the exact artifact bytes the agent may install.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NwError } from '../host/errors.js';
import { canonicalJson } from './canonical.js';
import { parseDesiredState, schemaErrors, type DesiredState } from './desired.js';

export const BUNDLE_KIND = 'nodewright.bundle/v1';
const DOMAIN = `${BUNDLE_KIND}\n`;

export const SignedBundleSchema = Type.Object(
  {
    kind: Type.Literal(BUNDLE_KIND),
    desired: Type.Unknown(),
    signature: Type.Object(
      {
        alg: Type.Literal('ed25519'),
        keyId: Type.String({ maxLength: 64 }),
        value: Type.String({ minLength: 1, maxLength: 256 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SignedBundle = Static<typeof SignedBundleSchema> & { desired: DesiredState };

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

export function signBundle(desired: unknown, privateKey: KeyObject): SignedBundle {
  const d = parseDesiredState(desired);
  const value = sign(null, Buffer.from(DOMAIN + canonicalJson(d)), privateKey).toString('base64');
  return { kind: BUNDLE_KIND, desired: d, signature: { alg: 'ed25519', keyId: keyId(privateKey), value } };
}

/** Check shape, then signature, then the desired-state schema. Returns the verified desired state. */
export function verifyBundle(input: unknown, publicKey: KeyObject): DesiredState {
  if (input === null || typeof input !== 'object' || !('signature' in input)) {
    throw new NwError('NW_SIGNATURE', 'the bundle is not signed: sign it with `nodewright bundle sign --key K FILE`');
  }
  if (!Value.Check(SignedBundleSchema, input)) {
    const errs = schemaErrors(SignedBundleSchema, input);
    throw new NwError('NW_BUNDLE', `signed bundle is malformed: ${errs.join('; ')}`, { errors: errs });
  }
  const b = input as Static<typeof SignedBundleSchema>;
  let ok = false;
  try {
    ok = verify(null, Buffer.from(DOMAIN + canonicalJson(b.desired)), publicKey, Buffer.from(b.signature.value, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new NwError(
      'NW_SIGNATURE',
      `bundle signature does not verify against the pinned public key ${keyId(publicKey)} (signed by key ${b.signature.keyId}): the bundle was altered or signed with another key`,
    );
  }
  return parseDesiredState(b.desired);
}

/** Detached signature of artifact bytes (optional second check next to the signed sha256). */
export function signArtifact(data: Buffer, privateKey: KeyObject): string {
  return sign(null, data, privateKey).toString('base64');
}

export function verifyArtifactSignature(data: Buffer, signatureB64: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, data, publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
