#!/usr/bin/env node
// The OpenStack commands alone (hosts, hypervisors, servers, volume-types; serve in the dev bundle),
// the group controller/cli.ts registers for those words, on the same root command.
//  - The package builds a V8 startup snapshot from it (package/layout.ts `fast`): at package time the
//    package's node runs it under --build-snapshot, which loads the group's modules and makes the CLI
//    the snapshot's main function; bin/nodewright starts `hosts show` and the others from that heap
//    instead of loading the bundle (bench P4).
//  - `npm run build` bundles it into dist/controller/commands/openstack-cli.mjs (one file, bench P4's
//    dev-build comparison).
import { startupSnapshot } from 'node:v8';
import { runCli } from '../host/cli.js';
import { warmCloudsYamlParser } from '../openstack/config.js';
import { registerOpenstackCommands } from './commands/openstack.js';
import { controllerProgram } from './program.js';

const program = controllerProgram();
registerOpenstackCommands(program);

if (startupSnapshot.isBuildingSnapshot()) {
  warmCloudsYamlParser();
  // the snapshot's process.argv has no script path: what follows `--` are the CLI's arguments
  startupSnapshot.setDeserializeMainFunction(() => void runCli(program, [process.execPath, 'nodewright', ...process.argv.slice(1)]));
} else {
  void runCli(program);
}
