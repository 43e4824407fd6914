// pino JSON logs (pretty on a TTY); keys and tokens are redacted wherever they appear.
import pino, { type Logger } from 'pino';

export const REDACT = [
  'keyring',
  '*.keyring',
  '*.*.keyring',
  'desired.ceph.keyring',
  'bundle.desired.ceph.keyring',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'privateKey',
  '*.privateKey',
];

export function createLogger(level = 'info', dest?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, base: { name: 'nodewright-agent', pid: process.pid }, redact: { paths: REDACT, censor: '<redacted>' } };
  if (dest) return pino(opts, dest);
  if (process.stdout.isTTY) return pino({ ...opts, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  return pino(opts, pino.destination({ dest: 2, sync: true }));
}
