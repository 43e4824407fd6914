#!/usr/bin/env node
// The OpenStack commands alone (hosts show/map, hypervisors, servers, volume-types, serve), as one
// entry that `npm run build` bundles with esbuild into dist/controller/commands/openstack-cli.mjs:
// a short-lived `hosts show` then loads one file instead of ~40 modules (bench P4).
import { Command } from 'commander';
import { addVersionOption } from '../host/build-info.js';
import { runCli } from '../host/cli.js';
import { registerOpenstackCommands } from './commands/openstack.js';

const program = addVersionOption(new Command('nodewright').description('nodewright OpenStack commands'));
registerOpenstackCommands(program);
await runCli(program);
