// R2 — fuzz POST /v1/desired with ≥ 100k mutated bundles (bench/r2-mutate.ts) against the
// agent's real fastify server: first R2_HTTP_INPUTS over real loopback HTTP to the real daemon
// (`nodewright-agent run`, sandbox --root, token mode), then R2_INPUTS in-process through
// fastify's inject (same Agent + buildServer the daemon runs; ~10× the rate on this shared machine).
// Every answer must be a coded 4xx `{code, message}`: never a 2xx, a 5xx, a dropped connection,
// a dead process or an uncaught error; the state file and the managed files stay byte-identical
// (checked after every batch; a change is a failure, and the baseline is restored to go on).
//   npm run bench -- R2      R2_INPUTS (100000), R2_HTTP_INPUTS (3000), R2_CONCURRENCY (8), R2_SEED,
//                            R2_BUDGET_S (3600: no new in-process batch after)
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign as edSign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lab/ports.js';
import { BUNDLE_KIND, generateSigningKeys, keyId, loadPrivateKey, signBundle } from '../protocol/bundle.js';
import { canonicalJson } from '../protocol/canonical.js';
import { parseDesiredState } from '../protocol/desired.js';
import pino from 'pino';
import { Agent } from '../agent/agent.js';
import { loadAgentConfig } from '../agent/config.js';
import { createLogger } from '../agent/log.js';
import { buildServer } from '../agent/server.js';
import { report } from './lib.js';
import { makeInputs, mulberry32, type Input, type Signer } from './r2-mutate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const AGENT_CLI = path.resolve(here, '../agent/cli.js');
const KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';
const G = 7;
const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const sha = (p: string) => {
  try {
    return createHash('sha256').update(readFileSync(p)).digest('hex');
  } catch {
    return 'absent';
  }
};

/** Sign any value the way protocol/bundle.ts does (checked against signBundle below). */
function rawSigner(privatePem: string) {
  const key = createPrivateKey(privatePem);
  const id = keyId(key);
  return (desired: unknown) => ({
    kind: BUNDLE_KIND,
    desired,
    signature: { alg: 'ed25519', keyId: id, value: edSign(null, Buffer.from(`${BUNDLE_KIND}\n${canonicalJson(desired)}`), key).toString('base64') },
  });
}

interface Failure {
  kind: string;
  what: string;
  input: string;
}

interface Answer {
  status: number;
  text: string;
}

/** Where the inputs go: the real daemon over loopback, or its server in-process. */
interface Target {
  name: string;
  send(i: Input): Promise<Answer>;
  /** Process alive / no uncaught error since the last call. */
  healthy(): string | null;
  /** Stop, put the baseline state back, start again. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

interface Sandbox {
  dir: string;
  root: string;
  config: string;
  token: string;
  port: number;
  stateFile: string;
  watched: string[];
  log: string;
}

async function makeSandbox(seed: number, pubPem: string): Promise<Sandbox> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-r2-'));
  const root = path.join(dir, 'root');
  mkdirSync(root);
  writeFileSync(path.join(dir, 'controller.pub'), pubPem);
  const token = 'r2-token-' + createHash('sha256').update(String(seed)).digest('hex').slice(0, 24);
  writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'agent.yaml');
  writeFileSync(
    config,
    [
      `listen: 127.0.0.1:${port}`,
      `tokenFile: ${dir}/token`,
      `publicKeyFile: ${dir}/controller.pub`,
      `root: ${root}`,
      `node: ${NODE}`,
      `stateDir: /var/lib/nodewright`,
      `drift:\n  enabled: false`,
      `schedule:\n  reconcile: "0 0 1 1 *"\n  probes: "0 0 1 1 *"`,
      `probes:\n  enabled: false`,
      `log:\n  level: warn`,
      '',
    ].join('\n'),
  );
  const stateFile = path.join(root, 'var/lib/nodewright/state.json');
  const watched = [stateFile, path.join(root, 'etc/ceph/ceph.client.k8s.keyring'), path.join(root, 'etc/ceph/ceph.conf')];
  return { dir, root, config, token, port, stateFile, watched, log: path.join(dir, 'agent.log') };
}

const NODE = 'r2-worker';

const headers = (sb: Sandbox, i: Pick<Input, 'contentType' | 'auth'>) => ({
  'content-type': i.contentType ?? 'application/json',
  ...(i.auth === 'none' ? {} : { authorization: `Bearer ${i.auth === 'wrong' ? sb.token + 'x' : sb.token}` }),
});

/** The real daemon, over loopback HTTP. */
/** Put the watched files back as they were at the baseline. */
function restoreFiles(saved: Map<string, Buffer>): void {
  for (const [p, b] of saved) writeFileSync(p, b);
}

async function daemonTarget(sb: Sandbox, saved: () => Map<string, Buffer>): Promise<Target> {
  const logStream = createWriteStream(sb.log, { flags: 'a' });
  let agent: ChildProcess | null = null;
  let stopping = false;
  let died: string | null = null;
  const base = `http://127.0.0.1:${sb.port}`;
  const start = async () => {
    const a = spawn('node', [AGENT_CLI, 'run', '--config', sb.config], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
    agent = a;
    a.stderr!.pipe(logStream, { end: false });
    a.once('exit', (code, signal) => {
      if (!stopping) died = `the agent process exited (${code ?? signal}) during the fuzz (log: ${sb.log})`;
    });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) return;
      } catch {}
      if (i > 600) throw new Error(`the agent did not answer /healthz (log: ${sb.log})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const a = agent;
    if (!a || a.exitCode !== null || a.signalCode !== null) return;
    stopping = true;
    const done = new Promise((r) => a.once('exit', r));
    a.kill('SIGTERM');
    const t = setTimeout(() => a.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
    stopping = false;
  };
  await start();
  return {
    name: 'loopback HTTP, real daemon',
    async send(i) {
      const res = await fetch(`${base}/v1/desired`, { method: 'POST', headers: headers(sb, i), body: i.body });
      return { status: res.status, text: await res.text() };
    },
    healthy() {
      const d = died;
      died = null;
      return d;
    },
    async reset() {
      await stop();
      restoreFiles(saved());
      await start();
    },
    async close() {
      await stop();
      logStream.end();
    },
  };
}

/** The same Agent and fastify server the daemon builds, in this process, through inject. */
async function injectTarget(sb: Sandbox, saved: () => Map<string, Buffer>): Promise<Target> {
  const config = await loadAgentConfig(sb.config, NODE);
  const dest = pino.destination({ dest: sb.log, append: true, sync: true });
  let uncaught: string | null = null;
  const onUncaught = (e: unknown) => (uncaught = `uncaught in the agent: ${e instanceof Error ? e.stack : String(e)}`.slice(0, 500));
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const make = async () => {
    const agent = await Agent.create(config, createLogger('warn', dest));
    const app = buildServer(agent, { auth: { kind: 'token', token: sb.token }, recovering: () => false });
    await app.ready();
    return { agent, app };
  };
  let cur = await make();
  const close = async () => {
    await cur.agent.reconciler.idle();
    await cur.app.close();
  };
  return {
    name: 'in-process inject, same server',
    async send(i) {
      const r = await cur.app.inject({ method: 'POST', url: '/v1/desired', headers: headers(sb, i), payload: i.body });
      return { status: r.statusCode, text: r.body };
    },
    healthy() {
      const u = uncaught;
      uncaught = null;
      return u;
    },
    async reset() {
      await close();
      restoreFiles(saved());
      cur = await make();
    },
    async close() {
      await close();
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    },
  };
}

interface Tally {
  sent: number;
  failed: number;
  skippedEquivalent: number;
  restores: number;
  failures: Failure[];
  byKind: Record<string, { n: number; codes: Record<string, number> }>;
}

/** Wait until the watched files stop changing (a restarted daemon runs its start-up reconcile). */
async function settled(fingerprint: () => string): Promise<string> {
  let last = fingerprint();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = fingerprint();
    if (now === last && i >= 1) return now;
    last = now;
  }
  return last;
}

async function fuzz(t: Target, n: number, concurrency: number, nextInput: () => Input, fingerprint: () => string, tally: Tally, stopAt = Infinity): Promise<number> {
  let baseline = await settled(fingerprint);
  const fail = (f: Failure) => {
    tally.failed++;
    if (tally.failures.length < 200) tally.failures.push(f);
  };
  const one = async (i: Input) => {
    const k = (tally.byKind[i.kind] ??= { n: 0, codes: {} });
    k.n++;
    let a: Answer;
    try {
      a = await t.send(i);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      fail({ kind: i.kind, what: `no answer (${err.cause?.code ?? err.message})`, input: i.body.slice(0, 300) });
      k.codes['no-answer'] = (k.codes['no-answer'] ?? 0) + 1;
      return;
    }
    let code = '';
    try {
      const j = JSON.parse(a.text) as { code?: unknown; message?: unknown };
      if (typeof j.code === 'string' && /^NW_[A-Z_]+$/.test(j.code) && typeof j.message === 'string' && j.message.length > 0) code = j.code;
    } catch {}
    const key = `${a.status} ${code || 'uncoded'}`;
    k.codes[key] = (k.codes[key] ?? 0) + 1;
    if (a.status < 400 || a.status > 499 || !code) fail({ kind: i.kind, what: `${a.status} ${a.text.slice(0, 200)}`, input: i.body.slice(0, 300) });
  };
  const tF = Date.now();
  let sent = 0;
  while (sent < n && Date.now() < stopAt) {
    const batch = Array.from({ length: Math.min(1000, n - sent) }, nextInput);
    let k = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (k < batch.length) await one(batch[k++]);
      }),
    );
    sent += batch.length;
    await new Promise((r) => setTimeout(r, 30)); // an accepted bundle's reconcile lands in its own batch
    const sick = t.healthy();
    if (sick) fail({ kind: 'process', what: sick, input: '' });
    if (sick || fingerprint() !== baseline) {
      if (!sick) fail({ kind: 'state', what: 'the state file or a managed file changed in this batch', input: '' });
      if (++tally.restores > 1000) throw new Error('R2: the state changed more than 1000 times; stopping');
      await t.reset();
      // The restarted daemon's start-up reconcile rewrites state.json (counters, times): its own
      // write, not the fuzz's; the new baseline is what it settles to.
      baseline = await settled(fingerprint);
    }
    if (sent % 10_000 === 0) process.stderr.write(`R2 ${t.name}: ${sent}/${n} inputs, ${tally.failed} failures, ${((Date.now() - tF) / 1000).toFixed(0)} s\n`);
  }
  tally.sent += sent;
  return (Date.now() - tF) / 1000;
}

export async function run(): Promise<void> {
  const t0 = Date.now();
  const nInject = num('R2_INPUTS', 100_000);
  const nHttp = num('R2_HTTP_INPUTS', 3000);
  const concurrency = num('R2_CONCURRENCY', 8);
  const seed = num('R2_SEED', Date.now() % 1_000_000);
  // A time budget: a run it stops reports the inputs it sent, and one below 100k is a MISS.
  const stopAt = t0 + num('R2_BUDGET_S', 3600) * 1000;
  const keys = generateSigningKeys();
  const foreign = generateSigningKeys();
  const sb = await makeSandbox(seed, keys.publicKeyPem);
  const fingerprint = () => sb.watched.map(sha).join(',');
  const saved = new Map<string, Buffer>();
  const tally: Tally = { sent: 0, failed: 0, skippedEquivalent: 0, restores: 0, failures: [], byKind: {} };
  let target: Target | null = null;
  try {
    // The real daemon takes a valid generation G and converges (keyring + ceph.conf written).
    target = await daemonTarget(sb, () => saved);
    const accepted = signBundle({ schema: 1, generation: G, ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: KEYRING } }, loadPrivateKey(keys.privateKeyPem));
    const r0 = await fetch(`http://127.0.0.1:${sb.port}/v1/desired?wait=1`, { method: 'POST', headers: headers(sb, {}), body: JSON.stringify(accepted) });
    if (r0.status !== 200) throw new Error(`the agent refused the valid bundle: ${r0.status} ${await r0.text()}`);
    const sign = rawSigner(keys.privateKeyPem);
    if (JSON.stringify(sign(accepted.desired)) !== JSON.stringify(accepted)) throw new Error('R2 signs differently from protocol/bundle.ts signBundle: update rawSigner');
    const signer: Signer = { sign: sign as Signer['sign'], signForeign: rawSigner(foreign.privateKeyPem) as Signer['signForeign'] };
    await settled(fingerprint);
    for (const p of sb.watched) saved.set(p, readFileSync(p));

    // Inputs that are the accepted bundle again in all that is signed (same content, same
    // signature bytes: keyId, key order and base64 padding bits are not signed) are valid: skipped.
    const acceptedCanon = canonicalJson(accepted.desired);
    const acceptedSig = Buffer.from(accepted.signature.value, 'base64');
    const equivalent = (i: Input) => {
      try {
        const b = JSON.parse(i.body) as { kind?: unknown; desired?: unknown; signature?: { alg?: unknown; value?: unknown } };
        return (
          b.kind === accepted.kind &&
          b.signature?.alg === 'ed25519' &&
          typeof b.signature.value === 'string' &&
          Buffer.from(b.signature.value, 'base64').equals(acceptedSig) &&
          canonicalJson(b.desired) === acceptedCanon
        );
      } catch {
        return false;
      }
    };
    // A mutant behind a good signature that is still a valid desired state with a newer
    // generation is a legitimate bundle, not a fuzz input.
    const validNewer = (i: Input) => {
      if (i.kind !== 'signed-invalid') return false;
      try {
        return parseDesiredState((JSON.parse(i.body) as { desired: unknown }).desired).generation > G;
      } catch {
        return false;
      }
    };
    const make = makeInputs(accepted as never, signer, NODE);
    const rnd = mulberry32(seed);
    const nextInput = (): Input => {
      for (;;) {
        const i = make(rnd);
        if (equivalent(i) || validNewer(i)) tally.skippedEquivalent++;
        else return i;
      }
    };

    const httpS = await fuzz(target, nHttp, concurrency, nextInput, fingerprint, tally);
    const httpSent = tally.sent;
    await target.close();
    target = await injectTarget(sb, () => saved);
    const injS = await fuzz(target, nInject, concurrency, nextInput, fingerprint, tally, stopAt);
    await target.close();
    target = null;

    console.log(
      `R2: ${httpSent} inputs over loopback HTTP to the daemon in ${httpS.toFixed(0)} s (${Math.round(httpSent / httpS)}/s), ${tally.sent - httpSent} in-process in ${injS.toFixed(0)} s (${Math.round((tally.sent - httpSent) / injS)}/s); seed ${seed}; ${tally.skippedEquivalent} generated inputs skipped as valid; baseline restored ${tally.restores}×`,
    );
    for (const [k, v] of Object.entries(tally.byKind).sort()) {
      console.log(`  ${k.padEnd(18)} ${String(v.n).padStart(6)}  ${Object.entries(v.codes).sort((a, b) => b[1] - a[1]).map(([c, x]) => `${c}:${x}`).join(' ')}`);
    }
    for (const k of [...new Set(tally.failures.map((f) => `${f.kind}: ${f.what.slice(0, 100)}`))].slice(0, 12)) console.log(`  FAILURE ${k}`);
    report({
      id: 'R2',
      metric: 'crashes',
      value: tally.failed,
      unit: '',
      op: '==',
      target: 0,
      size: { inputs: tally.sent },
      minSize: { inputs: 100_000 },
      extra: {
        seed,
        concurrency,
        http: { inputs: httpSent, seconds: Math.round(httpS) },
        inject: { inputs: tally.sent - httpSent, seconds: Math.round(injS) },
        seconds: Math.round((Date.now() - t0) / 1000),
        skippedValid: tally.skippedEquivalent,
        restores: tally.restores,
        byKind: tally.byKind,
        failures: tally.failures.slice(0, 50),
        kept: tally.failed ? sb.dir : null,
      },
    });
    if (tally.failed) console.log(`R2: sandbox and agent log kept in ${sb.dir}`);
  } finally {
    await target?.close();
    if (!tally.failed) rmSync(sb.dir, { recursive: true, force: true });
  }
}
