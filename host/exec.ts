// External commands: always a timeout, an explicit environment, captured output,
// and a coded error on failure. Secrets go on stdin or in files, never on argv.
import { NwError } from './errors.js';

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string | Buffer;
  cwd?: string;
  /** Do not throw on a non-zero exit; the caller inspects exitCode. */
  allowFailure?: boolean;
}

export interface ExecResult {
  command: string;
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type Exec = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

const tail = (s: string, n = 600) => (s.length > n ? '…' + s.slice(-n) : s).trim();

export const exec: Exec = async (file, args, opts = {}) => {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const command = [file, ...args].join(' ');
  const t0 = performance.now();
  // Loaded on the first command, not at start: the daemon runs none before READY=1 (bench P1/P3).
  const { execa } = await import('execa');
  const r = await execa(file, args, {
    timeout,
    env: { ...BASE_ENV, ...opts.env },
    extendEnv: false,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    cwd: opts.cwd,
    reject: false,
    stripFinalNewline: false,
    forceKillAfterDelay: 2000,
  });
  const result: ExecResult = {
    command,
    exitCode: r.exitCode ?? -1,
    signal: r.signal ?? undefined,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    durationMs: performance.now() - t0,
  };
  if (r.timedOut) {
    throw new NwError('NW_EXEC_TIMEOUT', `${command} did not finish within ${timeout} ms and was killed`, {
      command,
      timeoutMs: timeout,
      stderr: tail(result.stderr),
    });
  }
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new NwError('NW_EXEC_MISSING', `${file} is not installed or not on PATH`, { command });
  }
  if (!opts.allowFailure && (r.failed || result.exitCode !== 0)) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.exitCode}`;
    throw new NwError('NW_EXEC', `${command} ${how}: ${tail(result.stderr) || tail(result.stdout) || '(no output)'}`, {
      command,
      exitCode: result.exitCode,
      signal: result.signal,
      stderr: tail(result.stderr),
    });
  }
  return result;
};
