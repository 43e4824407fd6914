// R1's worker containers: the project's own lab (lab/worker/make-share.sh, boot.sh: real systemd 252
// in systemd-nspawn, the agent as the nodewright-agent.service it installs), driven from the host
// without blocking the event loop (the sandbox part runs in the same process):
//   - commands inside through lab/systemd/exec.sh;
//   - files read and the lab hooks written through /proc/<container init>/root;
//   - the agent's HTTP API and the kubelet stand-in's /record on the shared loopback;
//   - the agent's main process found as a host pid (same pid namespace as the init, NSpid), so a
//     SIGKILL lands when the bench says, without a process start in between.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestJson, type JsonAnswer } from '../host/http-json.js';
import { freePort } from '../lab/ports.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const AGENT_UNIT = 'nodewright-agent.service';
export const HOOKS_FILE = '/etc/nodewright/lab-hooks.json';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: HOST_PATH, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the lab needs on the host; a missing piece is named with how to get it. */
export function labMissing(): string | null {
  if (process.getuid?.() !== 0) return 'the R1 worker part needs root (systemd-nspawn): run the bench as root, or R1_WORKERS=0 to skip it (then R1 is a MISS)';
  for (const bin of ['/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/lib/systemd/systemd', '/usr/bin/unshare']) {
    if (!existsSync(bin)) return `${bin} is missing: run lab/install-deps.sh (installs systemd-container)`;
  }
  if (!existsSync(path.join(repo, 'dist/lab/worker/agent-hooked.js'))) return 'dist/ is not built: npm run build';
  return null;
}

export async function makeShare(dir: string): Promise<void> {
  const r = await run('bash', [path.join(repo, 'lab/worker/make-share.sh'), dir], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`lab/worker/make-share.sh failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
}

export type HttpAnswer = JsonAnswer;

function request(port: number, method: string, p: string, o: { body?: string; token?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return requestJson(`http://127.0.0.1:${port}${p}`, { method, body: o.body, token: o.token, timeoutMs: o.timeoutMs ?? 10_000 });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until truthy; null on timeout (the caller names what it waited for). */
export async function poll<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T | null> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {}
    if (Date.now() - t0 > timeoutMs) return null;
    await sleep(everyMs);
  }
}

export class WorkerLab {
  leader = 0;
  private constructor(
    readonly name: string,
    readonly share: string,
    readonly kubeletPort: number,
    readonly agentPort: number,
    readonly token: string,
  ) {}

  /** Boot a worker with lab/worker/boot.sh (the agent as its service, kubelet v1 running). */
  static async boot(name: string, share: string, env: Record<string, string>): Promise<WorkerLab> {
    const w = new WorkerLab(name, share, await freePort(), await freePort(), readFileSync(path.join(share, 'token'), 'utf8').trim());
    const r = await run('bash', [path.join(repo, 'lab/worker/boot.sh')], {
      env: { ...w.labEnv(), LAB_SHARE: share, KUBELET_PORT: String(w.kubeletPort), AGENT_PORT: String(w.agentPort), ...env },
      timeoutMs: 180_000,
    });
    if (r.code !== 0) {
      await w.stop();
      throw new Error(`lab/worker/boot.sh ${name} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    }
    w.leader = Number(/LEADER_PID=(\d+)/.exec(r.stdout)?.[1] ?? readFileSync(`/run/nodewright-lab/${name}/leader.pid`, 'utf8'));
    return w;
  }

  private labEnv() {
    return { LAB_NAME: this.name, LAB_MODE: 'hostusr' };
  }

  /** The container's root as the host sees it (its init's mount namespace). */
  get root(): string {
    return `/proc/${this.leader}/root`;
  }

  sh(cmd: string, timeoutMs = 60_000): Promise<Ran> {
    return run(path.join(repo, 'lab/systemd/exec.sh'), ['/bin/sh', '-c', cmd], { env: this.labEnv(), timeoutMs });
  }

  async shOk(cmd: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.sh(cmd, timeoutMs);
    if (r.code !== 0) throw new Error(`in worker ${this.name}: \`${cmd.slice(0, 200)}\` exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl show UNIT -p …` as name → value. */
  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    const out = await this.shOk(`systemctl show ${unit} ${props.map((p) => `-p ${p}`).join(' ')}`);
    return Object.fromEntries(
      out
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  writeHooks(pauseMs: Record<string, number>): void {
    writeFileSync(path.join(this.root, HOOKS_FILE), JSON.stringify({ pauseMs }) + '\n');
  }

  api(method: string, p: string, body?: string): Promise<HttpAnswer> {
    return request(this.agentPort, method, p, { token: this.token, ...(body !== undefined ? { body } : {}) });
  }

  async status(): Promise<any | null> {
    try {
      const r = await this.api('GET', '/v1/status');
      return r.status === 200 ? r.json : null;
    } catch {
      return null;
    }
  }

  /** The kubelet stand-in's account of itself, null when nothing answers. */
  async kubelet(): Promise<{ version: string; broken: boolean; pid: number } | null> {
    try {
      const r = await request(this.kubeletPort, 'GET', '/record', { timeoutMs: 3000 });
      return r.status === 200 ? { version: r.json.version, broken: r.json.broken, pid: r.json.pid } : null;
    } catch {
      return null;
    }
  }

  async kubeletHealthy(): Promise<boolean> {
    try {
      return (await request(this.kubeletPort, 'GET', '/healthz', { timeoutMs: 2000 })).status === 200;
    } catch {
      return false;
    }
  }

  /** Host pid of a process whose pid in the container is `nsPid` (0: none found). */
  hostPid(nsPid: number): number {
    let ns: string;
    try {
      ns = readlinkSync(`/proc/${this.leader}/ns/pid`);
    } catch {
      return 0;
    }
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1].trim().split(/\s+/);
        if (!nspid || Number(nspid[nspid.length - 1]) !== nsPid) continue;
        if (readlinkSync(`/proc/${d}/ns/pid`) === ns) return Number(d);
      } catch {}
    }
    return 0;
  }

  /** The agent service's main process: its pid in the container and on the host, once it runs. */
  async agentMain(): Promise<{ nsPid: number; hostPid: number; state: string } | null> {
    const s = await this.show(AGENT_UNIT, ['MainPID', 'ActiveState', 'SubState']);
    const nsPid = Number(s.MainPID);
    if (!(nsPid > 0)) return null;
    const hostPid = this.hostPid(nsPid);
    return hostPid ? { nsPid, hostPid, state: `${s.ActiveState}/${s.SubState}` } : null;
  }

  /** The journal of the agent since `since` (a `journalctl --since` time), for a failure's record. */
  async agentJournal(since: string): Promise<string> {
    return (await this.sh(`journalctl -u ${AGENT_UNIT} -u kubelet.service --no-pager -o short-precise --since '${since}' | tail -n 400`)).stdout;
  }

  async stop(): Promise<void> {
    const r = await run(path.join(repo, 'lab/systemd/stop.sh'), [], { env: this.labEnv(), timeoutMs: 90_000 });
    if (r.code !== 0) process.stderr.write(`R1 worker: stop of ${this.name} failed: ${r.stdout}${r.stderr}\n`);
  }
}
