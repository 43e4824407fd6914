#!/usr/bin/env node
// nodewright-agent: the worker daemon and the worker-side CLI.
import { runCli } from '../host/cli.js';
import { agentProgram } from './program.js';

await runCli(agentProgram());
