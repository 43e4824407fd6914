// `nodewright-agent run`: one controller owns start and stop. Order at start: config → state →
// HTTP listening → recovery pass → READY=1 → watchdog, drift watch, schedule, first reconcile.
// SIGTERM: STOPPING=1, stop triggers, let the current reconcile finish, close, exit 0.
import { readFile } from 'node:fs/promises';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { NwError } from '../host/errors.js';
import { createNotifier, type Notifier } from '../systemd/notify.js';
import { Agent, type AgentHooks } from './agent.js';
import type { AgentConfig } from './config.js';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './server.js';
import type { ReconcileResult } from './reconcile.js';

export async function readToken(file: string): Promise<string> {
  let t: string;
  try {
    t = (await readFile(file, 'utf8')).trim();
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the auth token file ${file} (${(e as NodeJS.ErrnoException).code}): write a random token there (mode 0600)`);
  }
  if (t.length < 16) throw new NwError('NW_CONFIG', `the auth token in ${file} is shorter than 16 characters: use a long random token`);
  return t;
}

export const summarize = (r: ReconcileResult | null, a: Agent): string => {
  if (!a.desired()) return 'waiting for a signed desired state';
  if (!r) return `generation ${a.desired()!.generation} accepted, reconcile pending`;
  const bad = r.steps.filter((s) => s.state === 'failed' || s.state === 'rolled_back');
  return `gen ${a.desired()!.generation}: ${r.converged ? 'converged' : 'NOT converged'}${bad.length ? ` (${bad.map((s) => `${s.name} ${s.state}`).join(', ')})` : ''}`;
};

export async function runDaemon(config: AgentConfig, log: Logger, hooks: AgentHooks = {}): Promise<void> {
  const notifier: Notifier = createNotifier({ onError: (e) => log.warn({ err: e.message }, 'systemd-notify failed') });
  // Ping from the event loop from the first moment: a blocked loop means no pings → systemd kills us.
  let wdTimer: NodeJS.Timeout | null = null;
  if (notifier.watchdogIntervalMs) wdTimer = setInterval(() => void notifier.watchdog(), notifier.watchdogIntervalMs);

  // Handlers first: a SIGTERM while start-up is still running (e.g. during the recovery pass, or
  // while a systemd-notify child runs, whose exit hook would swallow it) must still stop us.
  let agent: Agent | null = null;
  let app: FastifyInstance | null = null;
  let watcher: { close(): Promise<void> } | null = null;
  const tasks: ScheduledTask[] = [];
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    await notifier.stopping('stopping');
    for (const t of tasks) await t.stop();
    await watcher?.close();
    if (agent) await Promise.race([agent.reconciler.idle(), new Promise((r) => setTimeout(r, 20_000))]);
    await app?.close();
    if (wdTimer) clearInterval(wdTimer);
    log.info('stopped');
    log.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const token = await readToken(config.tokenFile);
  agent = await Agent.create(config, log, hooks);
  const a = agent;
  app = buildServer(a, token);
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NwError('NW_CONFIG', `cannot listen on ${config.listen.host}:${config.listen.port} (${code ?? (e as Error).message}): is another agent running? change \`listen\` in ${config.file ?? 'agent.yaml'}`);
  }
  log.info({ listen: `${config.listen.host}:${config.listen.port}` }, 'listening');

  const recovery = await a.recover();
  if (stopping) return;
  await notifier.ready(`${recovery.action === 'none' ? '' : `recovery: ${recovery.action}; `}${summarize(null, a)}`);
  log.info({ recovery: recovery.action }, 'ready');

  // Loaded after READY=1: nothing before it needs them, and start-up time counts.
  const [{ default: cron }, { DriftWatcher }] = await Promise.all([import('node-cron'), import('./watch.js')]);
  if (stopping) return;
  const drift = new DriftWatcher(config.drift.debounceMs, (file) => void a.reconcile('drift').catch(() => undefined), log);
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
  a.onReconciled = (r) => {
    void notifier.status(summarize(r, a));
    void rewatch();
  };
  for (const [name, expr] of Object.entries(config.schedule)) {
    try {
      tasks.push(cron.schedule(expr, () => void a.reconcile(name === 'reconcile' ? 'schedule' : name).catch(() => undefined), { name, noOverlap: true }));
    } catch (e) {
      log.error({ schedule: name, expr }, `schedule.${name} "${expr}" is not a valid cron expression (${(e as Error).message}); fix it in ${config.file}; running without it`);
    }
  }
  await rewatch();
  void a.reconcile('start').catch(() => undefined);
}
