// Is a state-changing request from the dashboard's own pages? Browsers send `Origin` on every
// POST and `Sec-Fetch-Site` on every request they make; when present, each must say "same origin"
// (the TLS listener's own https://Host). Absent both (a non-browser client) the CSRF token decides.
import type { IncomingHttpHeaders } from 'node:http';

export function isSameOrigin(h: Pick<IncomingHttpHeaders, 'origin' | 'host' | 'sec-fetch-site'>): boolean {
  const site = h['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  if (h.origin === undefined) return true;
  return h.host !== undefined && h.origin.toLowerCase() === `https://${h.host}`.toLowerCase();
}
