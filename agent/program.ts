// The nodewright-agent command line: one program, built by the shipped entry (agent/cli.ts) and the
// lab entry (lab/worker/agent-hooked.ts), which alone passes test hooks.
import { Command } from 'commander';
import { addVersionOption } from '../host/build-info.js';
import type { AgentHooks } from './agent.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerJoinCommand } from './commands/join.js';
import { registerUnitCommands } from './commands/unit.js';

export function agentProgram(hooks: AgentHooks = {}, description = 'nodewright worker agent'): Command {
  const program = addVersionOption(new Command('nodewright-agent').description(description));
  registerUnitCommands(program);
  registerAgentCommands(program, hooks);
  registerJoinCommand(program);
  return program;
}
