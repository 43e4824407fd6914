// What one client may hold of the controller's HTTP server: how long a request may take to
// arrive, how long an idle connection stays, how many connections there are at once, and how
// often one address may try to join and one node may renew. Node's own limits are off under fastify's defaults (a
// connection that sent half a request stayed open for minutes): every one is set here.
export interface ServerLimits {
  /** Headers must have arrived this long after the connection opened (or the last request ended). */
  headersTimeoutMs: number;
  /** The whole request (headers and body; artifact uploads too) must have arrived within this. */
  requestTimeoutMs: number;
  /** A connection with no traffic at all is closed after this (event streams excepted). */
  idleTimeoutMs: number;
  /** A keep-alive connection between requests stays this long (longer than clients' poll intervals). */
  keepAliveTimeoutMs: number;
  /** TLS handshakes must finish within this. */
  handshakeTimeoutMs: number;
  /** Connections at once; more are refused by the kernel accept path (closed at once). */
  maxConnections: number;
  /** `POST /v1/join` per source address: a burst of this many… */
  joinBurst: number;
  /** …then one every this many ms. */
  joinRefillMs: number;
  /** `POST /v1/renew` per node name (from its CA-signed certificate): a burst of this many… */
  renewBurst: number;
  /** …then one every this many ms. */
  renewRefillMs: number;
  /** `GET /ui/login` (dashboard sign-in links) per source address per minute. */
  loginPerMinute: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 75_000,
  handshakeTimeoutMs: 10_000,
  maxConnections: 4096,
  joinBurst: 10,
  joinRefillMs: 6000,
  renewBurst: 3,
  renewRefillMs: 600_000,
  loginPerMinute: 20,
};
