// sd_notify through the systemd-notify CLI, spawned with execa (Node has no unix datagram sockets).
// Blocking mode (no --no-block) so PID 1 has processed the message before we go on; never --pid
// (it would hijack MainPID). The unit needs NotifyAccess=all (systemd-notify is our child).
import { execa } from 'execa';

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
    try {
      await execa('systemd-notify', fields, {
        env: { NOTIFY_SOCKET: socket, PATH: '/usr/bin:/bin:/usr/sbin:/sbin' },
        extendEnv: false,
        stdin: 'ignore',
        timeout: o.timeoutMs ?? 10_000,
      });
    } catch (e) {
      o.onError?.(e as Error);
    }
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
