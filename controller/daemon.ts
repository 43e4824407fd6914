// `nodewright controller run`: one owner for start and stop. Order at start: signal handlers →
// key material (coded errors before anything listens) → store (migrations) → API over TLS →
// poller → READY=1. SIGTERM: STOPPING=1, stop the poller (in-flight polls finish), close the API,
// close the store, exit 0. Every timer the controller needs is rebuilt from the store at start.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { NwError } from '../host/errors.js';
import { caCertHash, checkTlsMaterial } from '../pki/index.js';
import { loadPrivateKey } from '../protocol/bundle.js';
import { createPublicKey } from 'node:crypto';
import { createNotifier } from '../systemd/notify.js';
import type { ApiContext } from './api/context.js';
import { buildControllerServer } from './api/server.js';
import type { ControllerConfig } from './config.js';
import { agentsHttpsAgent } from './fleet/agent-tls.js';
import { Poller } from './fleet/poller.js';
import { ControllerMetrics } from './metrics.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code}): fix the path in controller.yaml (or re-run \`nodewright init\` into a new directory)`);
  }
}

export interface KeyMaterial {
  cert: string;
  key: string;
  ca: string;
  caKey: string;
  signingKeyPem: string;
  signingPublicKeyPem: string;
}

export async function readKeyMaterial(c: ControllerConfig): Promise<KeyMaterial> {
  const [cert, key, ca, caKey, signingKeyPem] = await Promise.all([
    readPem(c.tls.cert, 'the controller certificate'),
    readPem(c.tls.key, 'the controller key'),
    readPem(c.tls.ca, 'the fleet CA certificate'),
    readPem(c.caKeyFile, 'the fleet CA key'),
    readPem(c.signingKeyFile, 'the bundle-signing key'),
  ]);
  checkTlsMaterial({ certPem: cert, keyPem: key, caPem: ca, files: c.tls });
  const signingPublicKeyPem = createPublicKey(loadPrivateKey(signingKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
  return { cert, key, ca, caKey, signingKeyPem, signingPublicKeyPem };
}

export interface RunningController {
  app: FastifyInstance;
  store: Store;
  poller: Poller;
  address: string;
  stop(): Promise<void>;
}

export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const keys = await readKeyMaterial(config);
  const store = openSqliteStore({ stateDir: config.stateDir });
  const metrics = new ControllerMetrics();
  let ready = false;
  const agent = agentsHttpsAgent({ ca: keys.ca, cert: keys.cert, key: keys.key, idleMs: Math.max(3 * config.poll.intervalMs, 60_000) });
  const poller = new Poller({
    store,
    log: log.child({ component: 'poller' }),
    agent,
    intervalMs: config.poll.intervalMs,
    fastIntervalMs: config.poll.rolloutIntervalMs,
    timeoutMs: config.poll.timeoutMs,
    concurrency: config.poll.concurrency,
    maxBackoffMs: config.poll.maxBackoffMs,
    onPoll: (_n, ms, outcome) => metrics.observePoll(ms, outcome),
  });
  const ctx: ApiContext = {
    store,
    poller,
    metrics,
    enroll: { store, ca: { certPem: keys.ca, keyPem: keys.caKey }, signingPublicKeyPem: keys.signingPublicKeyPem, certValidDays: config.certValidDays },
    caCertHash: caCertHash(keys.ca),
    operatorRoles: config.operatorRoles,
    now: () => new Date(),
    ready: () => ready,
  };
  let app: FastifyInstance;
  try {
    // The chain carries the CA: a joining agent checks it against its pinned --ca-cert-hash.
    app = await buildControllerServer({ fleet: ctx, tls: { cert: keys.cert + keys.ca, key: keys.key, ca: keys.ca } });
  } catch (e) {
    store.close();
    throw e;
  }
  let address: string;
  try {
    address = await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    store.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new NwError('NW_CONFIG', `cannot listen on ${config.listen.host}:${config.listen.port} (${code ?? (e as Error).message}): is another controller running? change \`listen\` in ${config.file}`);
  }
  poller.start();
  ready = true;
  log.info({ listen: address, stateDir: config.stateDir, epoch: store.epoch }, 'controller listening');
  return {
    app,
    store,
    poller,
    address,
    stop: async () => {
      ready = false;
      await poller.stop();
      await app.close();
      agent.destroy();
      store.close();
    },
  };
}

export async function runControllerDaemon(config: ControllerConfig, log: Logger): Promise<void> {
  const notifier = createNotifier({ onError: (e) => log.warn({ err: e.message }, 'systemd-notify failed') });
  let wd: NodeJS.Timeout | null = null;
  if (notifier.watchdogIntervalMs) wd = setInterval(() => void notifier.watchdog(), notifier.watchdogIntervalMs);
  let running: RunningController | null = null;
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    await notifier.stopping('stopping');
    await running?.stop();
    if (wd) clearInterval(wd);
    log.info('stopped');
    log.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  running = await startController(config, log);
  if (stopping) return void (await running.stop());
  await notifier.ready(`listening on ${running.address}`);
}
