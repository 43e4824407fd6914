// Run the real `nodewright` ceph commands in-process, capturing what they print.
import { Command } from 'commander';
import { registerCephCommands } from '../../../controller/commands/ceph.js';

export interface CliRun {
  out: string;
  err: string;
}

export async function nodewright(...args: string[]): Promise<CliRun> {
  const run: CliRun = { out: '', err: '' };
  const program = new Command('nodewright').exitOverride().configureOutput({ writeOut: (s) => (run.out += s), writeErr: (s) => (run.err += s) });
  registerCephCommands(program, { out: (s) => (run.out += s), err: (s) => (run.err += s) });
  await program.parseAsync(['node', 'nodewright', ...args]);
  return run;
}
