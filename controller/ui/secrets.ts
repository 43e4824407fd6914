// The dashboard's secrets: a one-time sign-in code and a session cookie are each 32 random bytes
// (base64url); the store keeps only their sha256, so a copy of the database signs nobody in.
import { createHash, randomBytes } from 'node:crypto';
import { sameHash } from '../store/rows.js';
import type { UiLoginCode } from '../store/store.js';

export const LOGIN_CODE_TTL_MS = 60_000;
export const SESSION_TTL_MS = 8 * 3_600_000;

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Equal strings, compared in constant time for a given length. */
export const sameSecret = sameHash;

/** A new sign-in code: the secret for the link, the record for the store. */
export function mintLoginCode(o: { actor: string; readOnly: boolean; now: Date; ttlMs?: number }): { code: string; record: UiLoginCode } {
  const code = newSecret();
  return {
    code,
    record: {
      codeHash: sha256Hex(code), actor: o.actor, readOnly: o.readOnly,
      createdAt: o.now.toISOString(), expiresAt: new Date(o.now.getTime() + (o.ttlMs ?? LOGIN_CODE_TTL_MS)).toISOString(),
    },
  };
}

/** The sign-in link on the controller the CLI reached (`https://HOST:PORT`, any path dropped). */
export function loginUrl(controller: string, code: string): string {
  const u = new URL('/ui/login', controller);
  u.searchParams.set('code', code);
  return u.toString();
}
