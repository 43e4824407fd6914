// The real controller for the R campaigns: `nodewright init` into a temporary directory, the built
// daemon (dist/controller/cli.js `controller run`) as a child process that can be killed and
// started again on the same state, its RSS sampled from /proc, and the operator API over mutual TLS.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initController } from '../controller/commands/init.js';
import { requestJson, type JsonAnswer } from '../host/http-json.js';
import { createKeyAndCsr } from '../pki/index.js';
import { freePort } from '../lab/ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../controller/cli.js');

export interface PollSettings {
  intervalSec: number;
  rolloutIntervalSec: number;
  timeoutSec: number;
  maxBackoffSec: number;
}

export interface Enrolled {
  name: string;
  keyPem: string;
  certPem: string;
}

/** A campaign rollout's desired state: its content differs by the kubelet image tag (the agents' marker of which rollout a bundle is). */
export const rolloutDesired = (tag: string) => ({ runtime: 'rkt', packages: { policy: 'skip' }, kubelet: { kind: 'image', version: '1.10.13', tag } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM of a live process in MiB (null once it is gone). */
export function rssMiB(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export class CampaignController {
  child: ChildProcess | null = null;
  /** Exits nobody asked for (a crash: the process died on its own). */
  crashes = 0;
  starts = 0;
  rssPeakMiB = 0;
  readonly log: string;
  private expectedExit = false;
  private sampler: NodeJS.Timeout | null = null;
  private ca = '';
  private cert = '';
  private key = '';

  private constructor(readonly dir: string, readonly port: number) {
    this.log = path.join(dir, 'controller.log');
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get caPem(): string {
    return this.ca;
  }

  get caKeyPem(): string {
    return readFileSync(path.join(this.dir, 'ca.key'), 'utf8');
  }

  get signingPublicKeyPem(): string {
    return readFileSync(path.join(this.dir, 'signing.pub'), 'utf8');
  }

  static async init(dir: string, poll: PollSettings): Promise<CampaignController> {
    const port = await freePort();
    await initController({ dir, listen: `127.0.0.1:${port}` });
    const file = path.join(dir, 'controller.yaml');
    const yaml = readFileSync(file, 'utf8')
      .replace(/^poll:\n(?: {2}.*\n)+/m, `poll:\n  intervalSec: ${poll.intervalSec}\n  rolloutIntervalSec: ${poll.rolloutIntervalSec}\n  timeoutSec: ${poll.timeoutSec}\n  concurrency: 256\n  maxBackoffSec: ${poll.maxBackoffSec}\n`)
      .replace(/^ {2}level: info$/m, '  level: warn');
    // every simulated agent joins from 127.0.0.1: the per-address join limit would refuse the campaign's own enrolment
    writeFileSync(file, `${yaml}server:\n  joinBurst: 10000\n`, { mode: 0o600 });
    const c = new CampaignController(dir, port);
    c.ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    c.cert = readFileSync(path.join(dir, 'operator.crt'), 'utf8');
    c.key = readFileSync(path.join(dir, 'operator.key'), 'utf8');
    return c;
  }

  /** Start the daemon; with `waitReady`, resolve when /readyz answers 200 (throws if it exits first). */
  async start(waitReady = true): Promise<void> {
    const err = openSync(this.log, 'a');
    this.expectedExit = false;
    const child = spawn(process.execPath, [CLI, 'controller', 'run', '--config', path.join(this.dir, 'controller.yaml')], { stdio: ['ignore', 'ignore', err], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    this.child = child;
    this.starts++;
    child.once('exit', (code, signal) => {
      if (!this.expectedExit) {
        this.crashes++;
        appendFileSync(this.log, `--- campaign: controller pid ${child.pid} exited on its own (code ${code}, signal ${signal})\n`);
      }
    });
    this.sampler ??= setInterval(() => this.sample(), 100);
    if (!waitReady) return;
    const t0 = Date.now();
    while (!(await this.ready())) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the controller exited (${child.exitCode ?? child.signalCode}) before it was ready; log: ${this.log}`);
      if (Date.now() - t0 > 60_000) throw new Error(`the controller was not ready within 60 s; log: ${this.log}`);
      await sleep(50);
    }
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async ready(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      https
        .get(`${this.url}/readyz`, { ca: this.ca, agent: false, timeout: 2000 }, (res) => (res.resume(), resolve(res.statusCode === 200)))
        .on('error', () => resolve(false))
        .on('timeout', function (this: { destroy(): void }) {
          this.destroy();
        });
    });
  }

  private sample(): void {
    const pid = this.child?.pid;
    if (!pid || !this.running) return;
    const m = rssMiB(pid);
    if (m) this.rssPeakMiB = Math.max(this.rssPeakMiB, m.rss, m.hwm);
  }

  /** Stop the running daemon with `signal` (SIGKILL for the kill campaign) and wait for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    this.sample();
    this.expectedExit = true;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, signal);
    await exited;
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** One operator API call (mutual TLS with the operator certificate). */
  api(method: string, route: string, body?: unknown, timeoutMs = 10_000): Promise<JsonAnswer> {
    return requestJson(`${this.url}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs, ca: this.ca, cert: this.cert, key: this.key });
  }

  async apiOk(method: string, route: string, body?: unknown): Promise<any> {
    const r = await this.api(method, route, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${route} answered ${r.status}: ${r.text.slice(0, 500)}`);
    return r.json;
  }

  /** Enroll a node through the real join API (a fresh key and CSR, a one-time token); the agent listens on 127.0.0.1:port. */
  async enroll(name: string, group: string, port: number): Promise<Enrolled> {
    const { token } = await this.apiOk('POST', '/v1/join-tokens', { group });
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
    const r = await this.apiOk('POST', '/v1/join', { token, name, csr: csrPem, listen: `127.0.0.1:${port}`, facts: { hostname: name, addresses: ['127.0.0.1'], runtime: 'rkt' } });
    return { name, keyPem, certPem: r.cert as string };
  }

  /** All audit events (oldest first). */
  async events(): Promise<{ id: number; at: string; kind: string; subject: string; data?: Record<string, unknown> }[]> {
    const out: { id: number; at: string; kind: string; subject: string; data?: Record<string, unknown> }[] = [];
    for (let after = 0; ; ) {
      const page = (await this.apiOk('GET', `/v1/events?after=${after}&limit=10000`)).events as typeof out;
      out.push(...page);
      if (page.length < 10_000) return out;
      after = page.at(-1)!.id;
    }
  }
}
