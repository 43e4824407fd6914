#!/usr/bin/env node
// nodewright: the controller daemon and the operator CLI.
import { Command } from 'commander';
import { runCli } from '../host/cli.js';
import { registerBundleCommands } from './commands/bundle.js';
import { registerCephCommands } from './commands/ceph.js';
import { registerOpenstackCommands } from './commands/openstack.js';

const program = new Command('nodewright').description('nodewright controller and operator CLI').version('0.1.0');
registerBundleCommands(program);
registerCephCommands(program);
registerOpenstackCommands(program);
await runCli(program);
