// Signed bundles: ed25519 over a domain tag + the canonical JSON of the desired state.
// The signature covers everything in `desired`, including the kubelet artifact's sha256 and size,
// so a verified bundle pins the exact artifact bytes the agent may install.
import { sign, verify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';
import { NwError } from '../host/errors.js';
import { canonicalJson } from './canonical.js';
import { keyId } from './keys.js';
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

// Keys live in ./keys.ts (no schemas: the controller loads its key before anything else); re-exported here.
export { generateSigningKeys, keyId, loadPrivateKey, loadPublicKey, type KeyPairPem } from './keys.js';

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
  if (!Check(SignedBundleSchema, input)) {
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

export const ARTIFACT_KIND = 'nodewright.artifact/v1';

/**
 * What an artifact signature covers: a domain tag of its own (never a valid bundle message), the
 * sha256 and the size. The signer and the agent hash while streaming; no file is held in memory.
 */
const artifactMessage = (a: { sha256: string; size: number }) => Buffer.from(`${ARTIFACT_KIND}\n${a.sha256}\n${a.size}`);
const isDigest = (a: { sha256: string; size: number }) => /^[0-9a-f]{64}$/.test(a.sha256) && Number.isSafeInteger(a.size) && a.size >= 0;

/** Detached signature of an artifact (optional second check next to the bundle's signed sha256). */
export function signArtifact(a: { sha256: string; size: number }, privateKey: KeyObject): string {
  if (!isDigest(a)) throw new NwError('NW_USAGE', `artifact digest must be 64 lowercase hex and a byte count (got ${JSON.stringify(a)})`);
  return sign(null, artifactMessage(a), privateKey).toString('base64');
}

export function verifyArtifactSignature(a: { sha256: string; size: number }, signatureB64: string, publicKey: KeyObject): boolean {
  if (!isDigest(a)) return false;
  try {
    return verify(null, artifactMessage(a), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
