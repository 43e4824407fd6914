// Shared CLI plumbing: coded errors become one line on stderr and exit code 2.
import type { Command } from 'commander';
import { NwError } from './errors.js';

export const EXIT_BAD_INPUT = 2;

export async function runCli(program: Command, argv = process.argv): Promise<void> {
  // Settings are copied to subcommands only when they are created, so apply them to every one.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof NwError) {
      process.stderr.write(`${e.code}: ${e.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      // help/version exit 0; usage errors were already printed by commander
      process.exitCode = ce.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`NW_INTERNAL: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
