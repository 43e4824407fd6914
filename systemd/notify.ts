// sd_notify through the systemd-notify CLI (Node has no unix datagram sockets: node:dgram is
// udp4/udp6 only). Blocking mode (no --no-block) so PID 1 has processed the message before we go on;
// never --pid (it would hijack MainPID). The unit needs NotifyAccess=all (systemd-notify is our child).
// Plain child_process, not execa: READY=1 comes before anything else needs execa (bench P1/P3).
import { execFile } from 'node:child_process';

export interface Notifier {
  readonly enabled: boolean;
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  watchdog(): Promise<void>;
  stopping(status?: string): Promise<void>;
  /** Half of WATCHDOG_USEC in ms (what systemd recommends), or null when no watchdog is set for us. */
  readonly watchdogIntervalMs: number | null;
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  timeoutMs?: number;
  onError?: (e: Error) => void;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').slice(0, 200);

export function createNotifier(o: NotifierOptions = {}): Notifier {
  const env = o.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC ?? 0);
  const wdPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : undefined;
  const forUs = wdPid === undefined || wdPid === (o.pid ?? process.pid);
  const send = async (fields: string[]): Promise<void> => {
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const child = execFile(
        'systemd-notify',
        fields,
        { env: { NOTIFY_SOCKET: socket, PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }, timeout: o.timeoutMs ?? 10_000, killSignal: 'SIGKILL' },
        (e, _stdout, stderr) => {
          if (e) o.onError?.(new Error(`systemd-notify ${fields[0]} failed: ${e.killed ? 'timed out' : e.message.split('\n')[0]}${stderr ? `: ${String(stderr).trim().slice(0, 200)}` : ''}`));
          resolve();
        },
      );
      child.stdin?.end();
    });
  };
  return {
    enabled: Boolean(socket),
    watchdogIntervalMs: socket && usec > 0 && forUs ? Math.max(50, Math.floor(usec / 2000)) : null,
    ready: (status) => send(['READY=1', ...(status ? [`STATUS=${oneLine(status)}`] : [])]),
    status: (text) => send([`STATUS=${oneLine(text)}`]),
    watchdog: () => send(['WATCHDOG=1']),
    stopping: (status) => send(['STOPPING=1', ...(status ? [`STATUS=${oneLine(status)}`] : [])]),
  };
}
