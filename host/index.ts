// The one seam every side effect goes through: files under a root, commands, time.
import { RootedFs } from './fs.js';
import { exec as realExec, type Exec } from './exec.js';
import { systemClock, type Clock } from './clock.js';

export interface Host {
  fs: RootedFs;
  exec: Exec;
  clock: Clock;
}

export interface HostOptions {
  root?: string;
  stateDir?: string;
  keepBackups?: number;
  exec?: Exec;
  clock?: Clock;
}

export function createHost(o: HostOptions = {}): Host {
  return {
    fs: new RootedFs(o.root ?? '/', o.stateDir ?? '/var/lib/nodewright', o.keepBackups ?? 5),
    exec: o.exec ?? realExec,
    clock: o.clock ?? systemClock,
  };
}

export { RootedFs } from './fs.js';
export type { Backup, WriteOptions } from './fs.js';
export { exec, type Exec, type ExecOptions, type ExecResult } from './exec.js';
export { NwError, isNwError, asNwError, type ErrorCode } from './errors.js';
