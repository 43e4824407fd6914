#!/usr/bin/env node
// nodewright-agent: the worker daemon and the worker-side CLI.
import { Command } from 'commander';
import { runCli } from '../host/cli.js';
import { registerUnitCommands } from './commands/unit.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerJoinCommand } from './commands/join.js';

const program = new Command('nodewright-agent').description('nodewright worker agent').version('0.1.0');
registerUnitCommands(program);
registerAgentCommands(program);
registerJoinCommand(program);
await runCli(program);
