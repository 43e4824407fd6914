// The coded error catalogue. Every message tells the operator what is wrong and what to do.
export type ErrorCode =
  | 'NW_CONFIG' // agent/controller config malformed
  | 'NW_USAGE' // bad command-line input
  | 'NW_PATH_ESCAPE' // a path resolves outside --root
  | 'NW_FS' // filesystem operation failed
  | 'NW_EXEC' // external command exited non-zero
  | 'NW_EXEC_TIMEOUT' // external command exceeded its timeout
  | 'NW_EXEC_MISSING' // external command not installed
  | 'NW_UNIT_PARSE' // unit file syntax that systemd would silently drop
  | 'NW_UNIT_EDIT' // requested unit edit impossible (variable absent, ...)
  | 'NW_RKT_CONFLICT' // target already mounted under another volume name
  | 'NW_SYSTEMD' // systemctl / daemon-reload / restart failure
  | 'NW_SIGNATURE' // bundle unsigned or signature mismatch
  | 'NW_BUNDLE' // bundle schema invalid
  | 'NW_CHECKSUM' // artifact sha256 / size mismatch
  | 'NW_DOWNLOAD' // artifact download failed
  | 'NW_HEALTH' // kubelet health gate failed
  | 'NW_PACKAGES' // package manager missing or failed
  | 'NW_AUTH' // missing/wrong bearer token
  | 'NW_PUSH' // agent unreachable or refused a bundle
  | 'NW_STATE' // the agent's state file is unreadable
  | 'NW_CEPH_AUTH' // cephx rejected the key
  | 'NW_CEPH_TIMEOUT' // cluster unreachable within the limit
  | 'NW_CEPH' // other ceph command failure
  | 'NW_CEPH_KEYRING' // keyring malformed
  | 'NW_CEPH_FUSE_ABORT' // ceph-fuse aborted (SIGABRT), usually a bad ceph.conf
  | 'NW_QUOTA' // cephfs quota probe failed
  | 'NW_OPENSTACK_AUTH' // credentials missing / rejected
  | 'NW_OPENSTACK_FORBIDDEN' // 403 (non-admin)
  | 'NW_OPENSTACK' // other API failure
  | 'NW_MICROVERSION' // server does not offer the microversion a feature needs
  | 'NW_NOT_FOUND' // no hypervisor / server matches
  | 'NW_AMBIGUOUS' // several hypervisors match
  | 'NW_ROLLOUT'; // ramp cannot be honoured / rollout halted

export class NwError extends Error {
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

export const isNwError = (e: unknown): e is NwError => e instanceof NwError;

/** Wrap any thrown value so callers always see a coded error. */
export function asNwError(e: unknown, fallback: ErrorCode = 'NW_FS'): NwError {
  if (e instanceof NwError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new NwError(fallback, msg);
}
