// pino JSON logs for the controller (pretty on a TTY); keys, tokens and CSRs are redacted.
import pino, { type Logger } from 'pino';

const REDACT = ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'keyring', '*.keyring', '*.*.keyring', 'privateKey', '*.privateKey', 'csr', '*.csr'];

export function createControllerLogger(level = 'info'): Logger {
  const opts: pino.LoggerOptions = { level, base: { name: 'nodewright-controller', pid: process.pid }, redact: { paths: REDACT, censor: '<redacted>' } };
  if (process.stdout.isTTY) return pino({ ...opts, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  return pino(opts, pino.destination({ dest: 2, sync: true }));
}
