// Start Debian's `prometheus` (lab/install-deps.sh) as a child process for tests and the demo: a fresh temp
// dir holding the given config and rule files and the TSDB, a free loopback port, ready when /-/ready answers
// 200; stopped by its pid (SIGTERM, then SIGKILL after a grace), the temp dir removed. No service, no root
// needed: it runs as whoever calls it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../ports.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusLabOptions {
  /** prometheus.yml text. `rule_files` may name the files of `rules` by their bare names (they sit beside it). */
  config?: string;
  /** rule file name → YAML text, written next to the config */
  rules?: Record<string, string>;
  port?: number;
  /** state dir (default: a fresh temp dir, removed on stop) */
  dir?: string;
  readyTimeoutMs?: number;
}

export interface PrometheusLab {
  url: string;
  port: number;
  dir: string;
  configFile: string;
  log: string;
  pid: number;
  /** POST /-/reload after rewriting the config or rule files in `dir` */
  reload(): Promise<void>;
  /** Stop exactly this process (by pid) and remove the dir we made; idempotent. */
  stop(): Promise<void>;
}

/** The minimal config: evaluate rules every second, scrape nothing unless the caller says so. */
export function defaultPrometheusConfig(ruleFiles: string[] = []): string {
  const rules = ruleFiles.length ? `rule_files:\n${ruleFiles.map((f) => `  - ${JSON.stringify(f)}`).join('\n')}\n` : '';
  return `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${rules}scrape_configs: []\n`;
}

export async function startPrometheus(o: PrometheusLabOptions = {}): Promise<PrometheusLab> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: run lab/install-deps.sh (prometheus)`);
  const ownDir = !o.dir;
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'nw-prometheus-'));
  const rules = o.rules ?? {};
  for (const [name, text] of Object.entries(rules)) writeFileSync(path.join(dir, name), text);
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, o.config ?? defaultPrometheusConfig(Object.keys(rules)));
  const port = o.port ?? (await freePort());
  const log = path.join(dir, 'prometheus.log');
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1h',
    ],
    { cwd: dir, stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const killer = setTimeout(() => child.exitCode === null && child.pid && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, log, o.readyTimeoutMs ?? 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    port,
    dir,
    configFile,
    log,
    pid: child.pid!,
    stop,
    async reload() {
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`prometheus reload answered ${res.status}: ${await res.text()} (log: ${log})`);
    },
  };
}

async function waitReady(url: string, child: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready; log: ${log}`);
    const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`prometheus was not ready in ${timeoutMs} ms; log: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
