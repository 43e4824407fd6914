// The controller side of bench P8, in its own process: polls N simulated agents every 10 s and
// reports its own CPU and RSS over a measured window. mode "poller" is the real thing (the
// controller's Poller with its SQLite store, agentsHttpsAgent, nodeTls identity checks); mode
// "bare" is the baseline: the same https keep-alive agent in a plain loop with If-None-Match, no
// store, no judging. The window starts once every node has answered once, plus one interval;
// "window" is printed when it starts (the parent samples the simulators' CPU then). Optionally the
// window is CPU-profiled (inspector, like --cpu-prof but only the window). Run: node
// fleet-poller.js SPEC.json; prints one JSON line last.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { AgentClient } from '../controller/fleet/agent-client.js';
import { agentsHttpsAgent } from '../controller/fleet/agent-tls.js';
import { Poller } from '../controller/fleet/poller.js';
import { newRollout } from '../controller/rollout/engine.js';
import { parseStrategy } from '../controller/rollout/strategy.js';
import { openSqliteStore } from '../controller/store/sqlite.js';
import { openPostgresStore } from '../controller/store/postgres.js';
import type { Store } from '../controller/store/store.js';
import { simAddress, simName } from './sim-agents.js';

export interface PollSpec {
  /** poller: the Poller on SQLite; postgres: the same on the PostgreSQL store (HA), fenced writes; bare: the baseline loop. */
  mode: 'poller' | 'postgres' | 'bare';
  /** mode postgres: the database (the password travels in the spec file, 0600). */
  postgres?: { url: string; password: string };
  caCertFile: string;
  certFile: string;
  keyFile: string;
  /** The simulators' `{ name: certificate sha256 }` files: the store's enrolled fingerprints. */
  fingerprintsFiles: string[];
  count: number;
  port: number;
  intervalMs: number;
  settleMs: number;
  windowMs: number;
  /** Write a .cpuprofile of the measured window here. */
  profileFile?: string;
}

export interface HotFunction {
  fn: string;
  at: string;
  selfPct: number;
}

export interface PollResult {
  mode: PollSpec['mode'];
  n: number;
  cpuPct: number;
  rssMiB: number;
  kibPerConnection: number;
  pollsPerSec: number;
  notModifiedPct: number;
  errors: number;
  /** Nodes that never answered before the window (0 unless the first round stalled). */
  unanswered: number;
  storeWrites: number;
  sockets: number;
  firstRoundMs: number;
  /** Store transactions (observations written) and per-second rate in the window. */
  windowStoreWrites: number;
  hot?: HotFunction[];
}

/** The functions with the most self time in a .cpuprofile, in % of the busy (not idle) samples. */
export function hottest(profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[] }, top = 15): HotFunction[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const count = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    busy++;
    const key = `${f.functionName || '(anonymous)'}\t${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  return [...count.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, c]) => ({ fn: k.split('\t')[0], at: k.split('\t')[1], selfPct: (c / Math.max(busy, 1)) * 100 }));
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r as T))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as PollSpec;
  const idleMs = Math.max(3 * spec.intervalMs, 60_000);
  const agent = agentsHttpsAgent({ ca: readFileSync(spec.caCertFile, 'utf8'), cert: readFileSync(spec.certFile, 'utf8'), key: readFileSync(spec.keyFile, 'utf8'), idleMs });
  const urlOf = (i: number) => `https://${simAddress(i)}:${spec.port}`;
  let polls = 0;
  let notModified = 0;
  let errors = 0;
  let storeWrites = 0;
  let lastError = '';
  const answered = new Set<string>();
  const onPoll = (name: string, outcome: string) => {
    polls++;
    if (outcome === 'status' || outcome === 'not-modified') answered.add(name);
    if (outcome === 'not-modified') notModified++;
    else if (outcome !== 'status') errors++;
  };
  let stop: () => Promise<void>;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'nw-p8-'));
  if (spec.mode === 'poller' || spec.mode === 'postgres') {
    const store: Store = spec.mode === 'poller' ? openSqliteStore({ stateDir }) : await leadingPostgresStore(spec.postgres!);
    const at = new Date().toISOString();
    const enrolled: Record<string, string> = Object.assign({}, ...spec.fingerprintsFiles.map((f) => JSON.parse(readFileSync(f, 'utf8'))));
    for (let i = 0; i < spec.count; i++) {
      await store.putNode({
        name: simName(i), group: 'workers', labels: { rack: `r${i % 40}` }, url: urlOf(i), certSha256: enrolled[simName(i)],
        facts: { hostname: simName(i), addresses: [simAddress(i)], runtime: 'rkt' }, enrolledAt: at,
        health: 'unknown', reason: null, healthSince: at, lastSeenAt: null, generation: null, converged: false, ready: false,
      });
    }
    // the simulated agents report generation 7: signed by this controller, as in a real fleet (a
    // generation it never signed makes a node degraded, and such a status is asked for in full again)
    const signed = newRollout({ id: 'bench', target: 'bench', nodes: [{ name: simName(0), baseGeneration: 6, previousGeneration: null, canRollBack: false }], strategy: parseStrategy({}), now: at });
    await store.createRollout({ id: 'bench', state: signed, createdAt: at, updatedAt: at }, []);
    const names = Array.from({ length: spec.count }, (_, i) => simName(i));
    await store.commitTransition('bench', signed.version, { ...signed, version: signed.version + 1, state: 'completed' }, names.map((node) => ({ node, generation: 7, desired: {}, bundle: {}, at })), []);
    global.gc?.();
    const poller = new Poller({
      store, log: pino({ level: 'warn' }), client: new AgentClient({ agent }), intervalMs: spec.intervalMs, fastIntervalMs: 1000, timeoutMs: 5000, concurrency: 256, maxBackoffMs: 120_000,
      onPoll: (name, _ms, outcome) => {
        onPoll(name, outcome);
        if (outcome === 'error' || outcome === 'http') lastError = poller.latest(name)?.observation.reason ?? lastError;
      },
      onChange: () => storeWrites++,
    });
    poller.start();
    stop = async () => {
      await poller.stop();
      await store.close();
    };
  } else {
    let running = true;
    const etags = new Map<number, string>();
    const pollOne = (i: number) =>
      new Promise<void>((resolve) => {
        const etag = etags.get(i);
        const req = https.request(`${urlOf(i)}/v1/status`, { agent, servername: simName(i), timeout: 5000, headers: etag ? { 'if-none-match': etag } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 304) onPoll(simName(i), 'not-modified');
            else if (res.statusCode === 200) {
              JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (typeof res.headers.etag === 'string') etags.set(i, res.headers.etag);
              onPoll(simName(i), 'status');
            } else onPoll(simName(i), 'http');
            resolve();
          });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => ((lastError = e.message), onPoll(simName(i), 'error'), resolve()));
        req.end();
      });
    // Same concurrency limit as the poller's default (256), first round spread over 1 s, then every interval ± 10 %.
    // Re-polls of connected nodes go before first connections (like the poller, which polls what
    // is due): a FIFO would park them behind a slow first round until the agents' keep-alive ends.
    let inflight = 0;
    const again: number[] = [];
    const first: number[] = [];
    const pump = () => {
      while (running && inflight < 256 && (again.length || first.length)) {
        const i = again.length ? again.pop()! : first.pop()!;
        inflight++;
        void pollOne(i).then(() => {
          inflight--;
          setTimeout(() => again.push(i), spec.intervalMs * (0.9 + Math.random() * 0.2));
          pump();
        });
      }
    };
    for (let i = 0; i < spec.count; i++) setTimeout(() => first.push(i), Math.random() * 1000);
    const timer = setInterval(pump, 20);
    stop = async () => {
      running = false;
      clearInterval(timer);
    };
  }
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  // every node answered once (its TLS connection is up), then one interval so the rounds spread;
  // progress on stderr, and a first round that stops growing for a minute ends the wait
  let grewAt = Date.now();
  let seen = 0;
  let reported = Date.now();
  while (answered.size < spec.count) {
    await sleep(100);
    if (answered.size > seen) (seen = answered.size), (grewAt = Date.now());
    if (Date.now() - reported > 30_000) {
      reported = Date.now();
      process.stderr.write(`fleet-poller ${spec.mode} N=${spec.count}: ${answered.size} answered, ${polls} polls, ${errors} errors (${lastError}) after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    if (Date.now() - grewAt > 60_000) break;
  }
  const firstRoundMs = Date.now() - t0;
  await sleep(spec.settleMs);
  const session = spec.profileFile ? new Session() : null;
  if (session) {
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  process.stdout.write('window\n');
  const polls0 = polls;
  const nm0 = notModified;
  const writes0 = storeWrites;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(spec.windowMs);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - w0;
  const rss = process.memoryUsage().rss;
  let hot: HotFunction[] | undefined;
  if (session) {
    const { profile } = await post<{ profile: Parameters<typeof hottest>[0] }>(session, 'Profiler.stop');
    writeFileSync(spec.profileFile!, JSON.stringify(profile));
    hot = hottest(profile);
    session.disconnect();
  }
  const sockets = Object.values(agent.sockets).reduce((a, s) => a + (s?.length ?? 0), 0) + Object.values(agent.freeSockets).reduce((a, s) => a + (s?.length ?? 0), 0);
  const windowPolls = polls - polls0;
  const result: PollResult = {
    mode: spec.mode,
    n: spec.count,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    rssMiB: rss / 2 ** 20,
    kibPerConnection: (rss - rssBefore) / 1024 / spec.count,
    pollsPerSec: windowPolls / (wallMs / 1000),
    notModifiedPct: windowPolls ? ((notModified - nm0) / windowPolls) * 100 : 0,
    errors,
    unanswered: spec.count - answered.size,
    storeWrites,
    sockets,
    firstRoundMs,
    windowStoreWrites: storeWrites - writes0,
    hot,
  };
  await stop();
  agent.destroy();
  rmSync(stateDir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1]?.endsWith('fleet-poller.js')) {
  main().catch((e) => {
    process.stderr.write(`fleet-poller: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}

/** The PostgreSQL store as the leader uses it: a term written to ha_leader, every write fenced by it. */
async function leadingPostgresStore(db: { url: string; password: string }): Promise<Store> {
  const lease = { epoch: 1, term: 'bench-p8' };
  const store = await openPostgresStore({ connectionString: db.url, password: db.password, lease: () => lease });
  await store.pool.query(`UPDATE ha_leader SET epoch = $1, term = $2, leader = 'bench' WHERE id = 1`, [lease.epoch, lease.term]);
  return store;
}
