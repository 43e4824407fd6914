// The coded error catalogue: every code with the HTTP status an API answers it with.
// Every message tells the operator what is wrong and what to do. docs/errors.md lists the same
// codes (test/unit/host/errors.test.ts keeps the two equal).
export const ERROR_CATALOGUE = {
  NW_CONFIG: 400, // agent/controller config malformed, unsafe file modes
  NW_USAGE: 400, // bad command-line or request input
  NW_PATH_ESCAPE: 400, // a path resolves outside --root
  NW_FS: 500, // filesystem operation failed
  NW_EXEC: 500, // external command exited non-zero
  NW_EXEC_TIMEOUT: 504, // external command exceeded its timeout
  NW_EXEC_MISSING: 500, // external command not installed
  NW_UNIT_PARSE: 422, // unit file syntax that systemd would silently drop
  NW_UNIT_EDIT: 422, // requested unit edit impossible (variable absent, ...)
  NW_RKT_CONFLICT: 409, // target already mounted under another volume name
  NW_SYSTEMD: 500, // systemctl / daemon-reload / restart failure
  NW_SIGNATURE: 400, // bundle or artifact unsigned, or signature mismatch
  NW_BUNDLE: 400, // bundle schema invalid
  NW_STALE: 409, // bundle generation older than the one the agent holds
  NW_GENERATION_CONFLICT: 409, // same generation, different content
  NW_EXPIRED: 400, // bundle past its signed notAfter
  NW_TARGET: 403, // bundle bound to another node group or node
  NW_CHECKSUM: 400, // artifact sha256 / size mismatch
  NW_DOWNLOAD: 502, // artifact download failed
  NW_HEALTH: 500, // kubelet health gate failed
  NW_PACKAGES: 500, // package manager missing or failed
  NW_AUTH: 401, // missing/wrong bearer token or client certificate
  NW_FORBIDDEN: 403, // authenticated, but the role may not do this
  NW_CSRF: 403, // a dashboard action without the session's CSRF token or from another origin
  NW_TLS: 400, // TLS material missing, malformed or not matching
  NW_PKI: 400, // CA / CSR / certificate operation refused
  NW_RECOVERING: 503, // the agent's recovery pass has not finished
  NW_LOCKED: 409, // another process holds the reconcile lock
  NW_EXISTS: 409, // refusing to overwrite existing files
  NW_TOKEN: 401, // join token unknown, used or expired
  NW_RATE_LIMIT: 429, // too many requests from one address (join) or node (renew); wait and retry
  NW_RENEW: 503, // certificate renewal failed (controller unreachable or bad answer); retried with backoff
  NW_PUSH: 502, // agent unreachable or refused a bundle
  NW_STATE: 500, // the agent's / controller's state is unreadable
  NW_NOT_LEADER: 503, // HA: no controller leads the fleet right now (an election is under way); retry in seconds
  NW_CEPH_AUTH: 502, // cephx rejected the key
  NW_CEPH_TIMEOUT: 504, // cluster unreachable within the limit
  NW_CEPH: 502, // other ceph command failure
  NW_CEPH_KEYRING: 400, // keyring malformed
  NW_CEPH_FUSE_ABORT: 502, // ceph-fuse aborted (SIGABRT), usually a bad ceph.conf
  NW_QUOTA: 500, // cephfs quota probe failed
  NW_OPENSTACK_AUTH: 502, // credentials missing / rejected (a gateway problem for an API)
  NW_OPENSTACK_FORBIDDEN: 502, // 403 (non-admin)
  NW_OPENSTACK: 502, // other API failure
  NW_MICROVERSION: 502, // server does not offer the microversion a feature needs
  NW_VOLUME_TYPE: 400, // the Cinder volume type does not exist (or is not visible to the project)
  NW_CINDER_UNAVAILABLE: 503, // Cinder (block storage) unreachable or failing
  NW_BOOT_FAILED: 502, // the server went to ERROR; says what was cleaned up and what is left
  NW_NOT_FOUND: 404, // no hypervisor / server / node / route matches
  NW_AMBIGUOUS: 409, // several hypervisors match
  NW_ROLLOUT: 409, // ramp cannot be honoured / rollout halted
  NW_PKG_RUNTIME: 500, // the Node runtime tarball does not match its pin (package/node-runtime.json)
  NW_PKG_INTEGRITY: 400, // a package file differs from the package's MANIFEST (tampered or truncated)
  NW_PKG_SIGNATURE: 400, // a release tarball has no .sig or does not match it under the key given to install.sh --trust-key
  NW_PKG_BUILD: 500, // a packaging step (esbuild, node-gyp, tar) failed
  NW_GIT: 400, // not a git checkout, the ref is not in it, or its checkout failed (the message quotes git's error line)
  NW_PATCH: 422, // a patch does not apply to the tree (names the rejected hunk)
  NW_GO_MISSING: 500, // no Go toolchain at --go or on PATH (says how to install one)
  NW_BUILD: 500, // the kubelet build failed (log tail shown, full log path given)
  NW_INTERNAL: 500, // a bug: report it with the log
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const httpStatusOf = (code: ErrorCode): number => ERROR_CATALOGUE[code] ?? 500;

/** Marks NwError's prototype: see `Symbol.hasInstance` below. */
const NW_ERROR = Symbol.for('nodewright.NwError');

export class NwError extends Error {
  /**
   * A bundle split into files (the packaged agent's side bundles, package/bundle.ts) has a copy of
   * this class in each: `instanceof NwError` holds for an error from any copy.
   */
  static [Symbol.hasInstance](v: unknown): boolean {
    if (this !== NwError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[NW_ERROR] === true;
  }
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'NwError';
    this.code = code;
    this.details = details;
  }
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

Object.defineProperty(NwError.prototype, NW_ERROR, { value: true });

export const isNwError = (e: unknown): e is NwError => e instanceof NwError;

/** Wrap any thrown value so callers always see a coded error. */
export function asNwError(e: unknown, fallback: ErrorCode = 'NW_FS'): NwError {
  if (e instanceof NwError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new NwError(fallback, msg);
}
