// Election members as real processes (lab/postgres/election-member.ts, compiled), for the HA tests
// and bench P9: spawn, read their JSON events, wait for one, send commands, signal by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemberSpec } from './election-member.js';

export interface MemberEvent { ev: string; name: string; at: number; [k: string]: unknown }

export interface MemberProc {
  name: string;
  child: ChildProcess;
  events: MemberEvent[];
  /** The first event (already seen or coming) that matches, after index `from`. */
  waitFor(pred: (e: MemberEvent) => boolean, timeoutMs: number, from?: number): Promise<MemberEvent>;
  /** Sends a command and waits for its answer event. */
  ask(cmd: 'lease' | 'status' | 'fence-last', timeoutMs?: number): Promise<MemberEvent>;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The compiled runner, from dist/ when this module runs from source (vitest). */
export const MEMBER_SCRIPT = here.split(path.sep).includes('dist')
  ? path.join(here, 'election-member.js')
  : path.resolve(here, '../../dist/lab/postgres/election-member.js');

export function spawnMember(spec: MemberSpec): MemberProc {
  const child = spawn(process.execPath, [MEMBER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: MemberEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) events.push(JSON.parse(line) as MemberEvent);
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
  child.on('exit', () => { for (const w of [...waiters]) w(); });
  child.stdin!.write(`${JSON.stringify(spec)}\n`);

  const waitFor = (pred: (e: MemberEvent) => boolean, timeoutMs: number, from = 0) =>
    new Promise<MemberEvent>((resolve, reject) => {
      const check = () => {
        const hit = events.slice(from).find(pred);
        if (hit) return done(() => resolve(hit));
        if (child.exitCode !== null || child.signalCode !== null) return done(() => reject(new Error(`member ${spec.name} exited (${child.exitCode ?? child.signalCode}): ${stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`member ${spec.name}: no matching event in ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-8))}; stderr: ${stderr}`))), timeoutMs);
      const done = (f: () => void) => { clearTimeout(timer); waiters.delete(check); f(); };
      waiters.add(check);
      check();
    });

  return {
    name: spec.name, child, events, waitFor,
    async ask(cmd, timeoutMs = 5000) {
      const from = events.length;
      child.stdin!.write(`${cmd}\n`);
      return waitFor((e) => e.ev === cmd || e.ev === `${cmd}-error`, timeoutMs, from);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGCONT');
      child.stdin!.write('stop\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    kill(signal) {
      child.kill(signal);
    },
  };
}
