// What the controller integration tests share: the built CLIs run as real processes, one HTTPS call
// with its answer parsed, and stopping exactly the children a test started (by pid).
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export const PATH = process.env.PATH ?? '/usr/bin:/bin';

export type Run = { code: number | null; stdout: string; stderr: string };
export const run = (cli: string, args: string[], env: Record<string, string> = {}): Run => {
  const r = spawnSync('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** The same without blocking this process (for stand-in servers in the test that must keep answering). */
export const runAsync = (cli: string, args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

export interface Answer { status: number; headers: IncomingHttpHeaders; json: any; text: string }
/** One request on a fresh connection (TLS options: ca, cert, key); POST when there is a body. */
export function call(url: string, o: https.RequestOptions & { body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { agent: false, method: o.body !== undefined ? 'POST' : 'GET', headers: o.body !== undefined ? { 'content-type': 'application/json' } : {}, ...o }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => {
        let json = null;
        try {
          json = JSON.parse(t);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text: t });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** SIGTERM each child still running, by its pid, and wait for it to exit. */
export async function stopChildren(...children: (ChildProcess | null)[]): Promise<void> {
  for (const p of children) {
    if (p?.pid && p.exitCode === null) {
      process.kill(p.pid, 'SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  }
}
