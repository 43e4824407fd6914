// Two controllers of one fleet for the HA tests: `nodewright init` once, the built daemon
// (dist/controller/cli.js `controller run`) twice on free ports against one fresh PostgreSQL
// database (c1 starts first and leads), and honest simulated agents (bench/sim-honest.ts) enrolled
// through the leader. Children are signalled and stopped by their own pid only.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rolloutDesired } from '../../../bench/campaign-controller.js';
import { r4Counts, type R4Counts } from '../../../bench/r4-check.js';
import { HonestAgent } from '../../../bench/sim-honest.js';
import { initController } from '../../../controller/commands/init.js';
import type { ControllerStatusJson } from '../../../controller/commands/controller-status.js';
import { requestJson, type JsonAnswer } from '../../../host/http-json.js';
import { freePort } from '../../../lab/ports.js';
import type { PostgresLab } from '../../../lab/postgres/lab.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { loadPublicKey } from '../../../protocol/keys.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../agent/fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, f: () => Promise<T | null | false> | T | null | false, ms: number, log: () => string = () => ''): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${log()}`);
    await sleep(50);
  }
}

export class Member {
  child: ChildProcess | null = null;
  /** Exit codes of every run, in order (null: killed by a signal). */
  readonly exits: (number | null)[] = [];
  /** Start again after an exit with code 1, as systemd's Restart=on-failure does. */
  restartOnFailure = false;
  readonly log: string;

  constructor(readonly name: string, readonly port: number, readonly config: string, private readonly fleet: Fleet) {
    this.log = path.join(path.dirname(config), `${name}.log`);
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const child = spawn(process.execPath, [CONTROLLER_CLI, 'controller', 'run', '--config', this.config], { stdio: ['ignore', 'ignore', openSync(this.log, 'a')], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    this.child = child;
    child.once('exit', (code) => {
      this.exits.push(code);
      if (code === 1 && this.restartOnFailure && !this.fleet.closing) this.start();
    });
  }

  /** Resolves with the exit code of the current run. */
  exited(): Promise<number | null> {
    const c = this.child;
    if (!c) return Promise.resolve(null);
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
    return new Promise((r) => c.once('exit', (code) => r(code)));
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  api(method: string, route: string, body?: unknown, timeoutMs = 5000): Promise<JsonAnswer> {
    return this.fleet.api(this.url, method, route, body, timeoutMs);
  }

  async status(): Promise<ControllerStatusJson | null> {
    if (!this.running) return null;
    // short: a frozen member must not hold up the loops that look for one that answers
    const r = await this.api('GET', '/v1/controller/status', undefined, 2000).catch(() => null);
    return r?.status === 200 ? (r.json as ControllerStatusJson) : null;
  }

  logTail(): string {
    try {
      return `--- ${this.name} log:\n${readFileSync(this.log, 'utf8').slice(-3000)}`;
    } catch {
      return '';
    }
  }
}

export class Fleet {
  readonly members: Member[] = [];
  readonly agents: HonestAgent[] = [];
  closing = false;
  private tls = { ca: '', cert: '', key: '' };

  private constructor(readonly lab: PostgresLab, readonly db: string, readonly dir: string) {}

  /** c1 and c2 on one new database; c1 is up and leads before c2 starts; `nodes` agents enrolled. */
  static async start(lab: PostgresLab, nodes: number): Promise<Fleet> {
    requireBuild();
    const f = new Fleet(lab, await lab.createDatabase('ha'), tempDir('nw-ha-'));
    const [p1, p2] = [await freePort(), await freePort()];
    await initController({ dir: f.dir, listen: `127.0.0.1:${p1}` });
    writeFileSync(path.join(f.dir, 'pg.pass'), `${lab.password}\n`, { mode: 0o600 });
    const base = readFileSync(path.join(f.dir, 'controller.yaml'), 'utf8')
      .replace(/^poll:\n(?: {2}.*\n)+/m, 'poll:\n  intervalSec: 0.5\n  rolloutIntervalSec: 0.2\n  timeoutSec: 2\n  concurrency: 64\n  maxBackoffSec: 1\n')
      .concat(`store: "${lab.url(f.db)}"\nstorePasswordFile: pg.pass\n`)
      // every simulated agent joins from 127.0.0.1: the per-address join limit would refuse them
      .concat('server:\n  joinBurst: 10000\n');
    const c1 = path.join(f.dir, 'controller.yaml');
    const c2 = path.join(f.dir, 'controller-c2.yaml');
    writeFileSync(c1, `${base}name: c1\n`, { mode: 0o600 });
    writeFileSync(c2, `${base.replace(/^listen: .*$/m, `listen: "127.0.0.1:${p2}"`).replace(/^url: .*\n/m, '')}name: c2\n`, { mode: 0o600 });
    f.tls = { ca: readFileSync(path.join(f.dir, 'ca.crt'), 'utf8'), cert: readFileSync(path.join(f.dir, 'operator.crt'), 'utf8'), key: readFileSync(path.join(f.dir, 'operator.key'), 'utf8') };
    f.members.push(new Member('c1', p1, c1, f), new Member('c2', p2, c2, f));
    const [m1, m2] = f.members;
    m1.start();
    await until('c1 to lead', async () => (await m1.status())?.leader === 'c1', 30_000, () => m1.logTail());
    m2.start();
    await until('c2 to follow', async () => (await m2.status())?.members.length === 2, 30_000, () => m2.logTail());
    const signingKey = loadPublicKey(readFileSync(path.join(f.dir, 'signing.pub'), 'utf8'));
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const name = `node-${i}`;
      const { token } = await f.ok(m1, 'POST', '/v1/join-tokens', { group: 'fleet' });
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
      const j = await f.ok(m1, 'POST', '/v1/join', { token, name, csr: csrPem, listen: `127.0.0.1:${port}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } });
      const a = new HonestAgent(name, 'fleet', { keyPem, certPem: j.cert as string, caPem: f.tls.ca }, signingKey, 150);
      await a.listen(port);
      f.agents.push(a);
    }
    return f;
  }

  api(base: string, method: string, route: string, body?: unknown, timeoutMs = 5000): Promise<JsonAnswer> {
    return requestJson(`${base}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs, ...this.tls });
  }

  async ok(m: Member, method: string, route: string, body?: unknown): Promise<any> {
    const r = await m.api(method, route, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${m.name}: ${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r.json;
  }

  member(name: string): Member {
    return this.members.find((m) => m.name === name)!;
  }

  /** The leader as a live member says it (null while none leads). */
  async leader(): Promise<{ member: Member; status: ControllerStatusJson } | null> {
    for (const m of this.members) {
      const s = await m.status();
      if (s?.leader) {
        const lead = this.member(s.leader);
        if (lead.running) return { member: lead, status: s };
      }
    }
    return null;
  }

  /** A running member answering reads (the leader or a follower). */
  async reader(): Promise<Member> {
    return until('a controller that answers', async () => {
      for (const m of this.members) if ((await m.status()) !== null) return m;
      return null;
    }, 30_000, () => this.logs());
  }

  /** Starts a rollout of new content (marker) through the leader, in waves 1, 3, 2 over 6 nodes. */
  async rollout(marker: string): Promise<string> {
    const lead = await until('a leader', () => this.leader(), 30_000, () => this.logs());
    const r = await this.ok(lead.member, 'POST', '/v1/rollouts', { group: 'fleet', desired: rolloutDesired(marker), strategy: { steps: '1,50%', maxUnavailable: 3, minHealthy: '1s', gateTimeout: '1m' } });
    return r.id as string;
  }

  /** How many agents accepted content `marker` so far. */
  pushed(marker: string): number {
    return this.agents.filter((a) => [...a.accepted.values()].some((x) => x.marker === marker && x.fresh > 0)).length;
  }

  /** Waits until the rollout is completed (read on any live member); returns its final view. */
  async completed(id: string, ms = 60_000): Promise<any> {
    return until(`rollout ${id} to complete`, async () => {
      const m = await this.reader();
      const r = await m.api('GET', `/v1/rollouts/${id}`).catch(() => null);
      if (r?.status === 200 && ['aborted', 'paused', 'failed'].includes(r.json.state)) throw new Error(`rollout ${id} ${r.json.state}: ${r.json.reason}`);
      return r?.status === 200 && r.json.state === 'completed' ? r.json : null;
    }, ms, () => this.logs());
  }

  /** R4's verdict over the agents' records, the rollouts' final states and the audit log. */
  async verdict(rollouts: { id: string; marker: string }[]): Promise<R4Counts> {
    const m = await this.reader();
    const finals = [];
    for (const r of rollouts) {
      const a = await m.api('GET', `/v1/rollouts/${r.id}`);
      finals.push({ ...r, confirmed: true, final: a.status === 200 ? { state: a.json.state, nodes: a.json.nodes } : null });
    }
    const events = (await this.ok(m, 'GET', '/v1/events?after=0&limit=10000')).events as { kind: string; subject: string; data?: { rollout?: unknown } }[];
    return r4Counts(this.agents.map((a) => ({ name: a.name, accepted: [...a.accepted.values()], refusals: a.refusals })), finals, events);
  }

  logs(): string {
    return this.members.map((m) => m.logTail()).join('\n');
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const m of this.members) {
      if (!m.child) continue;
      m.signal('SIGCONT');
      m.signal('SIGTERM');
      const done = m.exited();
      const t = setTimeout(() => m.signal('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    }
    await Promise.all(this.agents.map((a) => a.close()));
  }
}
