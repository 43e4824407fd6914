// The reconcile lock: `nodewright-agent apply` and a running daemon never change the worker at once.
// A lock file in the state dir holds "<pid> <start time>" of its owner; it is created complete
// (written to a temp file, then hard-linked into place, which fails when it exists). A lock whose
// owner is gone (no such pid, or the pid was reused by a process that started at another time)
// is stale and taken over.
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NwError } from '../host/errors.js';

export const LOCK_FILE = 'agent.lock';

export interface ReconcileLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Field 22 of /proc/PID/stat (clock ticks after boot), or null when the process does not exist. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const ownerLine = (pid: number) => `${pid} ${processStartTime(pid) ?? '?'}\n`;

/** Whether the owner a lock file names is still running. */
export function ownerAlive(content: string): boolean {
  const [pid, start] = content.trim().split(' ');
  if (!/^[1-9][0-9]*$/.test(pid ?? '')) return false;
  const now = processStartTime(Number(pid));
  return now !== null && (start === '?' || now === start);
}

/** Take the lock in `dir` (a real directory) or throw NW_LOCKED naming the holder. */
export async function acquireLock(dir: string, what: string, pid = process.pid): Promise<ReconcileLock> {
  const file = path.join(dir, LOCK_FILE);
  const mine = ownerLine(pid);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${LOCK_FILE}.${randomBytes(6).toString('hex')}`);
  await fsp.writeFile(temp, mine, { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fsp.link(temp, file);
        return { file, release: () => releaseLock(file, mine) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = await fsp.readFile(file, 'utf8').catch(() => '');
      if (ownerAlive(held)) {
        const holder = held.trim().split(' ')[0];
        throw new NwError('NW_LOCKED', `${what}: another nodewright-agent (pid ${holder}) holds ${file}: wait for it, or with the daemon running use POST /v1/reconcile instead of apply`);
      }
      // Stale: remove it only if it is still the same stale content, then try once more.
      if ((await fsp.readFile(file, 'utf8').catch(() => null)) === held) await fsp.unlink(file).catch(() => undefined);
    }
    throw new NwError('NW_LOCKED', `${what}: ${file} was taken over by another process meanwhile: retry`);
  } finally {
    await fsp.unlink(temp).catch(() => undefined);
  }
}

async function releaseLock(file: string, mine: string): Promise<void> {
  const held = await fsp.readFile(file, 'utf8').catch(() => null);
  if (held === mine) await fsp.unlink(file).catch(() => undefined);
}
