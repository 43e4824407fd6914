// `nodewright-agent run`: one controller owns start and stop. Order at start: signal handlers →
// TLS/token material checked → reconcile lock → state → HTTP listening → READY=1 → recovery pass
// (mutations answer 503 NW_RECOVERING until it is done; agent/startup.ts says why READY=1 comes
// first) → watchdog, drift watch, schedule, certificate renewal, first reconcile.
// SIGTERM: STOPPING=1, stop triggers, let the current reconcile finish, close, release the lock, exit 0.
import path from 'node:path';
import type { Logger } from 'pino';
import { NwError } from '../host/errors.js';
import { createNotifier, type Notifier } from '../systemd/notify.js';
import { Agent, type AgentHooks } from './agent.js';
import { scheduleCron, type CronTask } from './cron.js';
import { keepsPendingRetry, retryDelayMs } from './retry.js';
import { loadServerAuth } from './auth.js';
import type { AgentConfig } from './config.js';
import type { FastifyInstance } from 'fastify';
import { acquireLock, type ReconcileLock } from './lock.js';
import { buildServer } from './server.js';
import type { ReconcileResult } from './reconcile.js';
import { recoveryBudget, UNIT_TIMEOUT_START_SEC } from './startup.js';

export { readToken } from './auth.js';

export const summarize = (r: ReconcileResult | null, a: Agent): string => {
  if (!a.desired()) return 'waiting for a signed desired state';
  if (!r) return `generation ${a.desired()!.generation} accepted, reconcile pending`;
  const bad = r.steps.filter((s) => s.state === 'failed' || s.state === 'rolled_back');
  return `gen ${a.desired()!.generation}: ${r.converged ? 'converged' : 'NOT converged'}${bad.length ? ` (${bad.map((s) => `${s.name} ${s.state}`).join(', ')})` : ''}`;
};

/** Injected by tests only (unset in production). */
export interface DaemonHooks extends AgentHooks {
  notifier?: Notifier;
  /** Awaited at each start-up phase. */
  onStartupPhase?: (phase: 'listening' | 'ready' | 'recovering' | 'recovered') => unknown;
  /** Instead of process.exit after a signal. */
  exit?: (code: number) => void;
}

export interface Daemon {
  readonly app: FastifyInstance;
  readonly agent: Agent;
  stop(reason: string): Promise<void>;
}

export async function runDaemon(config: AgentConfig, log: Logger, hooks: DaemonHooks = {}): Promise<Daemon> {
  const notifier: Notifier = hooks.notifier ?? createNotifier({ onError: (e) => log.warn({ err: e.message }, 'systemd-notify failed') });
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  // Ping from the event loop from the first moment: a blocked loop means no pings → systemd kills us.
  let wdTimer: NodeJS.Timeout | null = null;
  // unref: a start-up that fails (bad config) must still exit instead of pinging forever.
  if (notifier.watchdogIntervalMs) wdTimer = setInterval(() => void notifier.watchdog(), notifier.watchdogIntervalMs).unref();

  // Handlers first: a SIGTERM while start-up is still running (e.g. during the recovery pass, or
  // while a systemd-notify child runs, whose exit hook would swallow it) must still stop us.
  let agent: Agent | null = null;
  let app: FastifyInstance | null = null;
  let lock: ReconcileLock | null = null;
  let watcher: { close(): Promise<void> } | null = null;
  let renewal: { stop(): void } | null = null;
  const tasks: CronTask[] = [];
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    await notifier.stopping('stopping');
    for (const t of tasks) t.stop();
    renewal?.stop();
    await watcher?.close();
    if (agent) await Promise.race([agent.reconciler.idle(), new Promise((r) => setTimeout(r, 20_000))]);
    await app?.close();
    await lock?.release();
    if (wdTimer) clearInterval(wdTimer);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    log.info('stopped');
    log.flush?.();
    exit(0);
  };
  const onTerm = () => void stop('SIGTERM');
  const onInt = () => void stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);

  const auth = await loadServerAuth(config);
  lock = await acquireLock(path.join(config.root, config.stateDir), 'nodewright-agent run');
  try {
    agent = await Agent.create(config, log, hooks);
  } catch (e) {
    await lock.release();
    throw e;
  }
  const a = agent;
  const inflight = a.state.get().inflight;
  // Only a change left in flight makes the recovery pass do anything; without one the API is open at once.
  let recovering = inflight !== null;
  app = buildServer(a, { auth, recovering: () => recovering });
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    await lock.release();
    const code = (e as NodeJS.ErrnoException).code;
    throw new NwError('NW_CONFIG', `cannot listen on ${config.listen.host}:${config.listen.port} (${code ?? (e as Error).message}): is another agent running? change \`listen\` in ${config.file ?? 'agent.yaml'}`);
  }
  log.info({ listen: `${config.listen.host}:${config.listen.port}`, auth: auth.kind }, 'listening');
  await hooks.onStartupPhase?.('listening');
  const daemon: Daemon = { app, agent: a, stop };

  const budget = recoveryBudget(config.kubelet, UNIT_TIMEOUT_START_SEC);
  await notifier.ready(inflight ? `recovering the in-flight ${inflight.kind} change (up to ${Math.round(budget.worstCaseRecoveryMs / 1000)} s)` : summarize(null, a));
  log.info({ inflight: inflight?.kind ?? null, worstCaseRecoverySec: Math.round(budget.worstCaseRecoveryMs / 1000) }, 'ready');
  await hooks.onStartupPhase?.('ready');

  await hooks.onStartupPhase?.('recovering');
  let recovery;
  try {
    recovery = await a.recover();
  } catch (e) {
    // Nothing may reconcile over a change still in flight: exit, and let systemd restart us to retry.
    await app.close();
    await lock.release();
    throw e;
  }
  recovering = false;
  await hooks.onStartupPhase?.('recovered');
  if (stopping) return daemon;
  if (recovery.action !== 'none') await notifier.status(`recovery: ${recovery.action}; ${summarize(null, a)}`);
  log.info({ recovery: recovery.action }, 'recovery pass done');

  // Loaded after READY=1: nothing before it needs them, and start-up time counts.
  const { DriftWatcher } = await import('./watch.js');
  if (stopping) return daemon;
  const drift = new DriftWatcher(config.drift.debounceMs, () => void a.reconcile('drift').catch(() => undefined), log, (file) => a.host.fs.isOwnWrite(file));
  watcher = drift;
  const rewatch = async () => {
    if (!config.drift.enabled || stopping) return;
    try {
      const changed = await drift.set(a.watchedPaths().map((p) => a.host.fs.resolve(p)));
      if (changed && a.desired()) void a.reconcile('watch').catch(() => undefined);
    } catch (e) {
      log.warn({ err: e }, 'drift watch failed');
    }
  };
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  tasks.push({ stop: () => clearTimeout(retry) });
  a.onReconciled = (r) => {
    void notifier.status(summarize(r, a));
    void rewatch();
    if (keepsPendingRetry(r, retry !== undefined)) return;
    clearTimeout(retry);
    retry = undefined;
    const delayMs = retryDelayMs(r, failures + 1);
    failures = delayMs === null ? 0 : failures + 1;
    if (delayMs === null || stopping) return;
    log.info({ code: r.error?.code, delayMs }, 'reconcile failed for a passing reason: running it again after a backoff');
    retry = setTimeout(() => {
      retry = undefined;
      void a.reconcile('retry').catch(() => undefined);
    }, delayMs);
  };
  for (const [name, expr] of Object.entries(config.schedule)) {
    try {
      tasks.push(scheduleCron(expr, () => void a.reconcile(name === 'reconcile' ? 'schedule' : name).catch(() => undefined)));
    } catch (e) {
      log.error({ schedule: name, expr }, `schedule.${name} "${expr}" is not a valid cron expression (${(e as Error).message}); fix it in ${config.file}; running without it`);
    }
  }
  await rewatch();
  if (config.tls && config.controller && !stopping) {
    const { startCertRenewal } = await import('./cert-renewal.js');
    const server = app;
    const r = startCertRenewal({
      controller: config.controller, node: config.node, tls: config.tls, log: log.child({ component: 'cert-renewal' }),
      // new connections get the new certificate; idle keep-alive ones (the controller's pool) are
      // closed so its next request meets the new one (the controller accepts the old for a handover)
      onRenewed: (p) => {
        (server.server as unknown as import('node:tls').Server).setSecureContext({ cert: p.certPem, key: p.keyPem, ca: p.caPem });
        server.server.closeIdleConnections?.();
      },
    });
    a.metrics.cert = r.counters;
    renewal = r;
  } else if (config.tls) log.warn('no `controller:` in agent.yaml: the agent certificate will not be renewed (join writes it; add it by hand for an older agent.yaml)');
  void a.reconcile('start').catch(() => undefined);
  return daemon;
}
