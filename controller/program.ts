// The root `nodewright` command, the same for the full CLI (controller/cli.ts) and the OpenStack
// commands' snapshot (controller/openstack-cli.ts): help, usage errors and --version stay alike.
import { Command } from 'commander';
import { addVersionOption } from '../host/build-info.js';

// positional: the program's own --version is read only before the command word, so `artifact add --version V` is the artifact's
export const controllerProgram = (): Command => addVersionOption(new Command('nodewright').description('nodewright controller and operator CLI')).enablePositionalOptions();
