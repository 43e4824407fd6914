// A follower of an HA controller answers every write with 307 and the leader's URL. Clients follow it
// with the same method and body, at most MAX_REDIRECTS times, and only to https: the next request
// keeps the caller's TLS options (fleet CA, controller role), so a target outside the fleet fails
// its handshake rather than receiving the request.
import { NwError } from './errors.js';

export const MAX_REDIRECTS = 2;

/** Statuses that keep the method and body (301/302/303 may turn a POST into a GET: never followed). */
const KEEPS_METHOD = new Set([307, 308]);

/**
 * Where to send the request again, or null when `status` is not a redirect to follow. `hops` is the
 * number of redirects already followed for this request.
 */
export function redirectTarget(from: URL, status: number, location: string | string[] | undefined, hops: number): URL | null {
  if (!KEEPS_METHOD.has(status)) return null;
  const loc = Array.isArray(location) ? location[0] : location;
  if (!loc) throw new NwError('NW_PUSH', `the controller at ${from.origin} answered ${status} without a Location: check that controller's version and logs`);
  if (hops >= MAX_REDIRECTS) {
    throw new NwError('NW_PUSH', `the controllers redirected ${from.pathname} more than ${MAX_REDIRECTS} times (last to ${loc}): no leader answers; check \`nodewright controller status\``);
  }
  let to: URL;
  try {
    to = new URL(loc, from);
  } catch {
    throw new NwError('NW_PUSH', `the controller at ${from.origin} redirected to '${loc}', not a URL: check that controller's logs`);
  }
  if (to.protocol !== 'https:' || from.protocol !== 'https:') {
    throw new NwError('NW_TLS', `the controller at ${from.origin} redirected to ${to.origin}: refusing to follow anything but https to a controller of the fleet CA`);
  }
  return to;
}
