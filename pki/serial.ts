// Certificate serials: 16 random bytes with the top bit cleared (DER integers are signed; RFC 5280 wants positive).
import { randomBytes } from 'node:crypto';

export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01; // no leading zero byte to strip
  return b.toString('hex');
}

/** Back-date validity by a few minutes so a worker whose clock lags slightly still accepts a fresh cert. */
export const CLOCK_SKEW_MS = 5 * 60_000;
export const DAY_MS = 86_400_000;

export function validity(validDays: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  return validityMs(validDays * DAY_MS, now);
}

/**
 * A lifetime in milliseconds. The back-dating is at most a tenth of the lifetime, so a short-lived
 * certificate (tests) still has its renewal point (2/3 of notBefore..notAfter) after the moment it is issued.
 */
export function validityMs(lifetimeMs: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - Math.min(CLOCK_SKEW_MS, Math.floor(lifetimeMs / 10))), notAfter: new Date(now + lifetimeMs) };
}
