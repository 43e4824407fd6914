// The session cookie, written and read by hand: one cookie whose value is base64url (nothing to
// encode), so two pure functions instead of registering @fastify/cookie, whose decorators would
// collide when the pages' plugin registers it too on the same server.
export const SESSION_COOKIE = 'nw_session';

/** Set-Cookie for a session: only the dashboard's paths, never to script, never cross-site. */
export const sessionCookie = (value: string, maxAgeS: number): string =>
  `${SESSION_COOKIE}=${value}; Path=/ui; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;

/** Set-Cookie that makes the browser forget the session. */
export const clearedSessionCookie = (): string => sessionCookie('', 0);

/** The value of cookie `name` in a Cookie header (the first one), or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v === '' ? null : v;
  }
  return null;
}
