// `nodewright controller run`: one owner for start and stop. Order at start: signal handlers →
// key material (coded errors before anything listens) → store (migrations) → pushes left in doubt
// by a crash, observed or sent again (the first action: it needs no more than the store, the keys
// and node:https) → the rest of the modules (deferred.ts) → API over TLS → rollouts step on →
// poller → hypervisor mapper (when controller.yaml names a cloud) → retention pass (then on its
// timer) → READY=1. SIGTERM: STOPPING=1, stop the pruner, the mapper, the executor and the poller,
// give pushes in flight STOP_GRACE_MS, cut what is still on the wire (its outcome is not the agent's word), close the API (event streams end first), close the store, exit 0.
// SIGHUP (`systemctl reload`, after `nodewright certs renew`): controller.crt/key are read and checked
// again; a good pair is served to new API connections and shown to agents on new connections, a bad
// one is logged with its code and the old pair kept.
// Every timer the controller needs is rebuilt from the store at start.
// HA (controller.yaml `store: postgres://…`): every member serves the API (reads from the database,
// writes answered 307 to the leader); only the elected leader recovers pushes in doubt, steps
// rollouts, polls and prunes. A member that loses its term stops acting and exits (systemd restarts
// it as a follower): the store's fence refuses its writes meanwhile.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { NwError } from '../host/errors.js';
import { checkTlsMaterial } from '../pki/check.js';
import { loadPrivateKey } from '../protocol/keys.js';
import type { ApiContext } from './api/context.js';
import type { ComputeNodesDeps } from './api/routes/compute-nodes.js';
import { urlOf, type ControllerConfig } from './config.js';
import { loadDeferred, loadOpenstack, type Deferred } from './deferred.js';
import { AgentClient } from './fleet/agent-client.js';
import { askStatus } from './fleet/ask-status.js';
import { agentsHttpsAgent, swapClientCert } from './fleet/agent-tls.js';
import { Poller } from './fleet/poller.js';
import { Pusher } from './fleet/pusher.js';
import type { HypervisorMapper } from './fleet/hypervisors.js';
import { FleetView, observationOf } from './fleet/view.js';
import { createHost } from '../host/index.js';
import { cephPreflight, gateChecker } from './gates/checks.js';
import { GateWatcher } from './gates/watcher.js';
import { RolloutExecutor } from './rollout/executor.js';
import { RolloutTracker } from './rollout/tracker.js';
import { ControllerMetrics } from './metrics.js';
import { Pruner } from './pruner.js';
import { openStoreMode } from './ha/mode.js';
import { Changes } from './ui/changes.js';
import type { Store } from './store/store.js';

/** How long a stopping controller lets pushes in flight finish (the rest of the stop fits in 2 s). */
const STOP_GRACE_MS = 1000;

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
  signingKey: KeyObject;
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
  const signingKey = loadPrivateKey(signingKeyPem);
  const signingPublicKeyPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  return { cert, key, ca, caKey, signingKeyPem, signingPublicKeyPem, signingKey };
}

export interface RunningController {
  app: FastifyInstance;
  store: Store;
  poller: Poller;
  executor: RolloutExecutor;
  address: string;
  stop(): Promise<void>;
  /** Re-reads controller.crt/key (NW_CONFIG/NW_TLS thrown, nothing changed, when they cannot serve); returns the new certificate's notAfter. */
  reloadCert(): Promise<string>;
  /** What the daemon still needs after start (systemd notification). */
  deferred: Deferred;
}

/** Resolves when `count()` reaches 0 or after `ms`. */
function drained(count: () => number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve) => {
    const check = () => (count() <= 0 || Date.now() >= end ? resolve() : setTimeout(check, 5));
    check();
  });
}

/** This controller as a member of the fleet's controllers: its name and the URL writes are redirected to. */
export const memberOf = (c: ControllerConfig) => ({
  name: c.name,
  url: urlOf(c.listen.host === '0.0.0.0' || c.listen.host === '::' ? { host: hostname(), port: c.listen.port } : c.listen),
});

export async function startController(config: ControllerConfig, log: Logger, o: { onDeposed?: (reason: string) => void } = {}): Promise<RunningController> {
  const keys = await readKeyMaterial(config);
  const ha = config.store.kind === 'postgres';
  const mode = await openStoreMode(config, memberOf(config), log);
  const { store } = mode;
  const metrics = new ControllerMetrics();
  let ready = false;
  const agent = agentsHttpsAgent({ ca: keys.ca, cert: keys.cert, key: keys.key, idleMs: Math.max(3 * config.poll.intervalMs, 60_000) });
  const client = new AgentClient({ agent });
  const tracker = new RolloutTracker({ onGate: (outcome) => metrics.count(metrics.gates, outcome) });
  // the executor's view of the fleet: from the store now, from the poller from its first poll on
  const view = await FleetView.fromStore(store);
  // what the dashboard's live pages watch: bumped by every change a page may show (and the view's own)
  const changes = new Changes(() => view.version);
  metrics.nodeHealth = () => view.healths();
  metrics.certExpiries = () => view.certExpiries();
  metrics.failureDomains = () => view.failureDomains(config.failureDomain);
  metrics.leader = () => ready && exec.acting;
  let ownCertNotAfter = new X509Certificate(keys.cert).validTo;
  /** This controller's certificate as a client (a renewal swaps it: SIGHUP). */
  let own = { cert: keys.cert, key: keys.key };
  metrics.ownCertNotAfter = () => ownCertNotAfter;
  // set when controller.yaml names a cloud: keeps every node's hypervisor current from Nova
  let mapper: HypervisorMapper | null = null;
  const poller = new Poller({
    store,
    view,
    log: log.child({ component: 'poller' }),
    client,
    intervalMs: config.poll.intervalMs,
    fastIntervalMs: config.poll.rolloutIntervalMs,
    timeoutMs: config.poll.timeoutMs,
    concurrency: config.poll.concurrency,
    maxBackoffMs: config.poll.maxBackoffMs,
    onPoll: (_n, ms, outcome) => metrics.observePoll(ms, outcome),
    fast: () => tracker.fast,
    onFacts: (node) => mapper?.trigger(`facts of ${node} changed`),
    onChange: (node) => {
      changes.bump();
      const id = tracker.rolloutOf(node);
      if (id) exec.tick(id).catch((e) => log.error({ rollout: id, err: (e as Error).message }, 'rollout step failed'));
    },
  });
  const pusher = new Pusher({
    client,
    deadlineMs: config.poll.timeoutMs * 6,
    onAccepted: (node) => {
      metrics.count(metrics.pushes, 'accepted');
      poller.soon(node);
    },
    onRefused: () => metrics.count(metrics.pushes, 'refused'),
  });
  let deferred: Deferred | null = null;
  // the strategy's gates: evaluated continuously, results fed to the engine like node observations
  const gates = new GateWatcher({
    check: gateChecker({ host: createHost(), ceph: config.ceph, prometheusTimeoutMs: config.gates.timeoutMs }),
    changed: (id) => void exec.tick(id).catch((e) => log.error({ rollout: id, err: (e as Error).message }, 'rollout step failed')),
    evaluated: (gate, pass) => metrics.count(metrics.gateChecks, `${gate}\u0000${pass ? 'pass' : 'hold'}`),
    intervalMs: config.gates.intervalMs,
  });
  const exec = new RolloutExecutor({
    store,
    view,
    // recover() re-sends stored bundles only; the steps that sign wait until deferred is loaded
    sign: (d) => deferred!.signBundle(d, keys.signingKey),
    // the lease is checked at the push itself: a leader frozen past its bound pushes nothing on waking
    push: (node, bundle) => {
      if (!mode.leading()) throw new NwError('NW_NOT_LEADER', `not pushing to ${node.name}: this controller no longer leads the fleet`);
      return pusher.push(node, bundle);
    },
    now: () => new Date().toISOString(),
    gateResults: (id) => gates.results(id),
    tickMs: config.poll.rolloutIntervalMs,
    bundleValidMs: config.bundleValidMs,
    onError: (e, id) => log.error({ rollout: id, err: (e as Error).message }, 'rollout step failed'),
    onTransition: (next) => {
      changes.bump();
      tracker.transition(next);
      metrics.trackRollout(next);
      gates.track(next);
    },
  });
  const fail = (e: unknown): never => {
    gates.stop();
    exec.stop();
    agent.destroy();
    void mode.close();
    throw e;
  };
  /** The active rollouts into the tracker and metrics; the leader also evaluates their gates. */
  const trackActive = async () => {
    const leading = mode.leading();
    for (const r of await store.activeRollouts()) {
      tracker.track(r.state);
      metrics.trackRollout(r.state);
      if (leading) gates.track(r.state);
    }
  };
  const startupMs = () => Math.round(process.uptime() * 1000);
  let loaded = () => {};
  if (!ha) {
    // The first action: rollouts continue from the store, pushes in doubt are observed or sent again.
    await trackActive();
    await exec.recover(new Promise<void>((r) => (loaded = r)));
    // module evaluation below blocks the event loop: let those pushes reach their agents first
    await drained(() => pusher.unsent(), 1000);
    log.info({ startupMs: startupMs(), unsent: pusher.unsent() }, 'pushes in doubt handled');
  }
  try {
    deferred = await loadDeferred();
  } catch (e) {
    fail(e);
  }
  const d = deferred!;
  loaded();
  const ctx: ApiContext = {
    store,
    poller,
    metrics,
    enroll: { store, ca: { certPem: keys.ca, keyPem: keys.caKey }, signingPublicKeyPem: keys.signingPublicKeyPem, certValidDays: config.certValidDays, certValidSeconds: config.certValidSeconds },
    caCertHash: d.caCertHash(keys.ca),
    operatorRoles: config.operatorRoles,
    now: () => new Date(),
    ready: () => ready,
    failureDomain: config.failureDomain,
    onEnrolled: (node) => {
      changes.bump();
      mapper?.trigger(`${node} enrolled`);
    },
    leadership: { leading: () => mode.leading(), leaderUrl: () => mode.leaderUrl() },
    controllerStatus: () => mode.status(),
  };
  // controller.yaml names a cloud: the compute-node routes (as in `nodewright serve`), operators only
  const routes = [
    d.rolloutRoutes(exec, { artifactBaseUrl: config.url, failureDomain: () => config.failureDomain, preflight: cephPreflight({ host: createHost(), ceph: config.ceph }) }),
    // a follower's dashboard forwards its operators' commands to the leader with this controller's certificate
    d.uiRoutes({ view, latest: (name) => poller.latest(name), askStatus: (n) => askStatus(client, n, Math.min(config.poll.timeoutMs, 2000)), executor: exec, changes, queryEvents: (q) => store.queryEvents(q), forward: ha ? d.leaderCommand(() => ({ ca: keys.ca, ...own })) : undefined }),
  ];
  if (config.openstack) {
    const openstack = config.openstack;
    // clouds.yaml is read now (a wrong cloud name is a start-up error); Nova is reached on the first
    // compute-node request, and again after a failed attempt: rollouts never wait for the cloud.
    let cloud;
    const os = await loadOpenstack();
    try {
      cloud = os.loadCloudConfig({ cloud: openstack.cloud });
      if (openstack.computeApiVersion) cloud.computeApiVersion = openstack.computeApiVersion;
    } catch (e) {
      fail(e);
    }
    let connecting: Promise<ComputeNodesDeps> | null = null;
    const connectNova = () =>
      (connecting ??= os.connectCompute(cloud!).then(
        (c) => ({ nodes: c.nodes, session: c.session }),
        (e) => {
          connecting = null;
          log.warn({ err: e instanceof Error ? e.message : String(e) }, 'OpenStack is not reachable; compute-node requests fail until it is');
          throw e;
        },
      ));
    routes.push(async (app, c) => {
      await app.register(async (scope) => {
        scope.addHook('onRequest', async (req) => {
          d.callerOf(req, c.operatorRoles);
        });
        await d.computeNodesRoutes(scope, connectNova);
      });
    });
    mapper = new os.HypervisorMapper({
      store,
      nova: () => connectNova().then((n) => n.nodes.nova),
      latestFacts: (name) => poller.latest(name)?.status?.facts ?? null,
      log: log.child({ component: 'hypervisor-map' }),
      intervalMs: openstack.mapIntervalMs,
      onRefresh: (r) => metrics.count(metrics.hypervisorMaps, r.ok ? 'ok' : 'failed'),
    });
  }
  const artifacts = new d.ArtifactStore({ stateDir: config.stateDir, store, blobs: mode.blobs, signingKey: keys.signingKey, now: () => new Date().toISOString() });
  let app: FastifyInstance;
  try {
    // The chain carries the CA: a joining agent checks it against its pinned --ca-cert-hash.
    app = await d.buildControllerServer({ fleet: ctx, tls: { cert: keys.cert + keys.ca, key: keys.key, ca: keys.ca }, extraRoutes: [...routes, d.artifactRoutes(artifacts)], limits: config.server });
  } catch (e) {
    fail(e);
  }
  let address: string;
  try {
    address = await app!.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(new NwError('NW_CONFIG', `cannot listen on ${config.listen.host}:${config.listen.port} (${code ?? (e as Error).message}): is another controller running? change \`listen\` in ${config.file}`));
  }
  const pruner = new Pruner({ store, blobs: mode.blobs, policy: config.retention, intervalMs: config.retention.intervalMs, log: log.child({ component: 'retention' }), now: () => new Date().toISOString() });
  let stopped = false;
  const lead = async () => {
    if (stopped) return;
    if (ha) {
      // a new leader: rollouts continue where the last one left them; pushes in doubt are observed
      // or the stored bundle is sent again (never a new signature for the same step)
      await trackActive();
      await exec.recover();
    }
    await exec.start();
    poller.start();
    mapper?.start();
    pruner.start();
  };
  const stopActing = async () => {
    pruner.stop();
    gates.stop();
    mapper?.stop();
    exec.stop();
    await poller.stop();
  };
  mode.onDeposed((reason) => {
    if (stopped) return; // our own stop ended the term
    log.error({ reason }, 'this controller lost its term: it stops acting');
    void stopActing().then(() => o.onDeposed?.(reason));
  });
  if (ha) {
    // a follower shows what the leader writes: re-read nodes and rollouts when the database says so
    let rereading: Promise<void> | null = null;
    mode.onChange(() => {
      if (mode.leading() || rereading) return;
      rereading = (async () => {
        const nodes = await store.listNodes();
        view.sync(nodes);
        // the leader's poller wrote these observations; here they come from the database
        for (const n of nodes) view.observe(n.name, observationOf(n));
        changes.bump();
        await trackActive();
      })().catch((e) => log.warn({ err: (e as Error).message }, 'cannot re-read the fleet')).finally(() => (rereading = null));
    });
    mode.elected().then(lead).catch((e) => {
      log.error({ err: (e as Error).message }, 'cannot take over the fleet');
      void stopActing().then(() => o.onDeposed?.((e as Error).message));
    });
  } else await lead();
  ready = true;
  log.info({ listen: address!, stateDir: config.stateDir, store: config.store.kind, member: config.name, epoch: store.epoch, startupMs: startupMs() }, 'controller listening');
  return {
    app: app!,
    store,
    poller,
    executor: exec,
    address: address!,
    deferred: d,
    reloadCert: async () => {
      const [cert, key] = await Promise.all([readPem(config.tls.cert, 'the controller certificate'), readPem(config.tls.key, 'the controller key')]);
      checkTlsMaterial({ certPem: cert, keyPem: key, caPem: keys.ca, files: config.tls });
      (app!.server as unknown as TlsServer).setSecureContext({ cert: cert + keys.ca, key, ca: keys.ca, minVersion: 'TLSv1.2' });
      swapClientCert(agent, { ca: keys.ca, cert, key });
      own = { cert, key };
      ownCertNotAfter = new X509Certificate(cert).validTo;
      return ownCertNotAfter;
    },
    stop: async () => {
      ready = false;
      stopped = true;
      pruner.stop();
      mapper?.stop();
      gates.stop();
      exec.stop();
      const polls = poller.stop();
      // pushes get a moment to land; one cut off here is in doubt, observed at the next start
      await Promise.race([exec.idle(), new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
      agent.destroy();
      await polls;
      await app!.close();
      await mode.close();
    },
  };
}

export async function runControllerDaemon(config: ControllerConfig, log: Logger): Promise<void> {
  // systemd-notify is loaded with the deferred modules: nothing is said to systemd before READY=1
  let notifier: ReturnType<Deferred['createNotifier']> | null = null;
  let wd: NodeJS.Timeout | null = null;
  let running: RunningController | null = null;
  let stopping = false;
  const stop = async (sig: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    await notifier?.stopping('stopping');
    await running?.stop();
    if (wd) clearInterval(wd);
    log.info('stopped');
    log.flush?.();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      if (!running || stopping) return;
      try {
        log.info({ file: config.tls.cert, notAfter: await running.reloadCert() }, 'controller certificate reloaded');
      } catch (e) {
        log.error({ code: (e as NwError).code, err: (e as Error).message }, 'controller certificate not reloaded: still serving the previous one');
      }
    });
  });
  // a deposed leader exits non-zero: systemd (Restart=on-failure) starts it again as a follower
  running = await startController(config, log, { onDeposed: (reason) => void stop(`deposed (${reason})`, 1) });
  if (stopping) return void (await running.stop());
  const n = (notifier = running.deferred.createNotifier({ onError: (e) => log.warn({ err: e.message }, 'systemd-notify failed') }));
  if (n.watchdogIntervalMs) wd = setInterval(() => void n.watchdog(), n.watchdogIntervalMs);
  await n.ready(`listening on ${running.address}`);
}
