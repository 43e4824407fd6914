// Turn a failed ceph/rbd/ceph-fuse run into the coded error an operator can act on.
import { NwError } from '../host/errors.js';

export interface FailedRun {
  exitCode: number;
  signal?: string;
  stderr: string;
  stdout?: string;
}

/** The last meaningful stderr lines, without timestamps and crash dumps. */
export function stderrGist(stderr: string, lines = 3): string {
  const keep = stderr
    .split('\n')
    .map((l) => l.replace(/^\S+T\S+\s+[0-9a-f]+\s+-?\d+\s+/, '').trim())
    .filter((l) => l && !/^\d+: |^\*\*\*|NOTE: a copy|^in thread|^ceph version|^0> |^-?\d+> /.test(l));
  return [...new Set(keep)].slice(-lines).join(' | ');
}

export function classifyCephFailure(what: string, r: FailedRun, ctx: { who?: string; monHost?: string } = {}): NwError {
  const err = r.stderr + (r.stdout ?? '');
  const gist = stderrGist(err);
  const details = { exitCode: r.exitCode, signal: r.signal, stderr: gist };
  const who = ctx.who ?? 'the client';
  if (r.exitCode === 134 || r.signal === 'SIGABRT') {
    return new NwError(
      'NW_CEPH_FUSE_ABORT',
      `${what}: the ceph tool aborted (SIGABRT, exit 134)${/run dir|cannot set permissions|unable to create/.test(err) ? ' because the configured run dir does not exist' : ''}; use a minimal ceph.conf (fsid and mon host only) — ${gist}`,
      details,
    );
  }
  if (/Malformed input|keyring not found|failed to load .*keyring|error parsing file/i.test(err)) {
    return new NwError('NW_CEPH_KEYRING', `${what}: the keyring of ${who} is unreadable or malformed; export it again with \`nodewright ceph prepare --keyring-out\``, details);
  }
  if (/handle_auth_bad_method|AUTH_BAD|authentication error|\(13\) Permission denied|\(1\) Operation not permitted|EACCES|EPERM|access denied/i.test(err)) {
    const caps = !/handle_auth_bad_method|authentication error/i.test(err);
    return new NwError(
      'NW_CEPH_AUTH',
      caps
        ? `${what}: ${who} was refused (its caps do not allow this); update them with \`nodewright ceph prepare\` — ${gist}`
        : `${what}: cephx rejected the key of ${who}; the keyring does not match the cluster, export it again with \`nodewright ceph prepare --keyring-out\``,
      details,
    );
  }
  if (/timed out|\(110\)|ETIMEDOUT|failed to fetch mon config|couldn't connect to the cluster|\bhunting\b/i.test(err)) {
    return new NwError('NW_CEPH_TIMEOUT', `${what}: the cluster did not answer in time; check that the monitors${ctx.monHost ? ` (${ctx.monHost})` : ''} are up and reachable — ${gist}`, details);
  }
  return new NwError('NW_CEPH', `${what} failed (exit ${r.exitCode}${r.signal ? `, ${r.signal}` : ''}): ${gist || '(no output)'}`, details);
}
