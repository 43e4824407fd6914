// `nodewright controller run`: one owner for start and stop. Order at start: signal handlers →
// key material (coded errors before anything listens) → store (migrations) → API over TLS →
// poller → READY=1. SIGTERM: STOPPING=1, stop the poller (in-flight polls finish), close the API,
// close the store, exit 0. Every timer the controller needs is rebuilt from the store at start.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { NwError } from '../host/errors.js';
import { caCertHash, checkTlsMaterial } from '../pki/index.js';
import { loadPrivateKey, signBundle } from '../protocol/bundle.js';
import { createPublicKey } from 'node:crypto';
import { createNotifier } from '../systemd/notify.js';
import type { ApiContext } from './api/context.js';
import { buildControllerServer } from './api/server.js';
import type { ControllerConfig } from './config.js';
import { agentsHttpsAgent } from './fleet/agent-tls.js';
import { Poller } from './fleet/poller.js';
import { pushDesired } from './fleet/push.js';
import { FleetView } from './fleet/view.js';
import { callerOf } from './api/auth.js';
import { artifactRoutes } from './api/routes/artifacts.js';
import { computeNodesRoutes } from './api/routes/compute-nodes.js';
import { loadCloudConfig } from '../openstack/config.js';
import { connectCompute } from '../openstack/connect.js';
import { rolloutRoutes } from './api/routes/rollouts.js';
import { ArtifactStore } from './artifacts/store.js';
import { isInFlight, type RolloutState } from './rollout/engine.js';
import { RolloutExecutor } from './rollout/executor.js';
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
  executor: RolloutExecutor;
  address: string;
  stop(): Promise<void>;
}

export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const keys = await readKeyMaterial(config);
  const store = openSqliteStore({ stateDir: config.stateDir });
  const metrics = new ControllerMetrics();
  let ready = false;
  // Nodes a rollout is pushing to or gating (polled fast), and which rollout each belongs to.
  const inRollout = new Map<string, string>();
  const fast = new Set<string>();
  let executor: RolloutExecutor | null = null;
  const agent = agentsHttpsAgent({ ca: keys.ca, cert: keys.cert, key: keys.key, idleMs: Math.max(3 * config.poll.intervalMs, 60_000) });
  // the executor's view of the fleet: from the store now, from the poller from its first poll on
  const view = FleetView.fromStore(store);
  const poller = new Poller({
    store,
    view,
    log: log.child({ component: 'poller' }),
    agent,
    intervalMs: config.poll.intervalMs,
    fastIntervalMs: config.poll.rolloutIntervalMs,
    timeoutMs: config.poll.timeoutMs,
    concurrency: config.poll.concurrency,
    maxBackoffMs: config.poll.maxBackoffMs,
    onPoll: (_n, ms, outcome) => metrics.observePoll(ms, outcome),
    fast: () => fast,
    onChange: (node) => {
      const id = inRollout.get(node);
      if (id) executor?.tick(id).catch((e) => log.error({ rollout: id, err: (e as Error).message }, 'rollout step failed'));
    },
  });
  const signingKey = loadPrivateKey(keys.signingKeyPem);
  const phases = new Map<string, string>(); // rollout/node → last phase, for gate outcome counters
  const track = (s: RolloutState) => {
    for (const n of s.nodes) {
      const busy = s.state !== 'completed' && s.state !== 'aborted' && isInFlight(n);
      if (busy) fast.add(n.name);
      else if (inRollout.get(n.name) === s.id) fast.delete(n.name);
      if (s.state === 'completed' || s.state === 'aborted') {
        if (inRollout.get(n.name) === s.id) inRollout.delete(n.name);
      } else inRollout.set(n.name, s.id);
    }
  };
  executor = new RolloutExecutor({
    store,
    view,
    sign: (d) => signBundle(d, signingKey),
    push: async (node, bundle) => {
      try {
        await pushDesired(agent, node, bundle, config.poll.timeoutMs * 6);
        metrics.count(metrics.pushes, 'accepted');
        poller.soon(node.name);
        return { ok: true };
      } catch (e) {
        metrics.count(metrics.pushes, 'refused');
        throw e;
      }
    },
    now: () => new Date().toISOString(),
    tickMs: config.poll.rolloutIntervalMs,
    onError: (e, id) => log.error({ rollout: id, err: (e as Error).message }, 'rollout step failed'),
    onTransition: (next) => {
      track(next);
      for (const n of next.nodes) {
        const key = `${next.id}/${n.name}`;
        const before = phases.get(key);
        if (before === n.phase) continue;
        phases.set(key, n.phase);
        if (before === 'gating') metrics.count(metrics.gates, n.phase === 'healthy' ? 'passed' : 'failed');
      }
    },
  });
  const exec = executor;
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
  // controller.yaml names a cloud: the compute-node routes (as in `nodewright serve`), operators only
  const routes = [rolloutRoutes(exec, { artifactBaseUrl: config.url })];
  if (config.openstack) {
    let compute;
    try {
      const cloud = loadCloudConfig({ cloud: config.openstack.cloud });
      if (config.openstack.computeApiVersion) cloud.computeApiVersion = config.openstack.computeApiVersion;
      compute = await connectCompute(cloud);
    } catch (e) {
      store.close();
      throw e;
    }
    const deps = { nodes: compute.nodes, session: compute.session };
    routes.push(async (app, c) => {
      await app.register(async (scope) => {
        scope.addHook('onRequest', async (req) => void callerOf(req, c.operatorRoles));
        await computeNodesRoutes(scope, deps);
      });
    });
  }
  const artifacts = new ArtifactStore({ stateDir: config.stateDir, store, signingKey, now: () => new Date().toISOString() });
  let app: FastifyInstance;
  try {
    // The chain carries the CA: a joining agent checks it against its pinned --ca-cert-hash.
    app = await buildControllerServer({ fleet: ctx, tls: { cert: keys.cert + keys.ca, key: keys.key, ca: keys.ca }, extraRoutes: [...routes, artifactRoutes(artifacts)] });
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
  // Rollouts continue from the store: pushes in doubt are observed, timers rebuilt from deadlines.
  for (const r of store.listRollouts()) track(r.state);
  await exec.start();
  poller.start();
  ready = true;
  log.info({ listen: address, stateDir: config.stateDir, epoch: store.epoch }, 'controller listening');
  return {
    app,
    store,
    poller,
    executor: exec,
    address,
    stop: async () => {
      ready = false;
      exec.stop();
      await Promise.race([exec.idle(), new Promise((r) => setTimeout(r, 10_000))]);
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
