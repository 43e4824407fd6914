// The packaged agent's entry. At package time the package's node runs it once under --build-snapshot
// (package/snapshot.ts): it loads every module `nodewright-agent run` needs before READY=1 and makes
// the CLI the snapshot's main function, so a start deserializes that heap instead of compiling and
// running the bundle (bench P3). Run as a plain script (node nodewright-agent.cjs) it is the CLI.
import { startupSnapshot } from 'node:v8';
import { runCli } from '../host/cli.js';
import { loadDaemon } from './commands/agent.js';
import { agentProgram } from './program.js';

/** `args`: what follows the script (the snapshot's process.argv has no script path). */
const cli = (args: string[]) => void runCli(agentProgram(), [process.execPath, 'nodewright-agent', ...args]);

if (startupSnapshot.isBuildingSnapshot()) {
  void loadDaemon();
  startupSnapshot.setDeserializeMainFunction(() => cli(process.argv.slice(1)));
} else {
  cli(process.argv.slice(2));
}
