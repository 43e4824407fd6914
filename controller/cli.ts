#!/usr/bin/env node
// nodewright: the controller daemon and the operator CLI.
// Command groups load only when their command runs: start-up cost stays that of one group.
// Each group names the top-level words it registers; the first argv word picks the group.
import type { Command } from 'commander';
import { runCli } from '../host/cli.js';
import { enableCliCompileCache } from '../host/compile-cache.js';
import { controllerProgram } from './program.js';

type Register = (program: Command) => void;
interface Group {
  names: string[];
  load: () => Promise<Register>;
}
const groups: Group[] = [
  { names: ['keygen', 'bundle'], load: async () => (await import('./commands/bundle.js')).registerBundleCommands },
  { names: ['artifact'], load: async () => (await import('./commands/artifact.js')).registerArtifactCommands },
  { names: ['kubelet'], load: async () => (await import('./commands/kubelet.js')).registerKubeletCommands },
  { names: ['ca'], load: async () => (await import('./commands/ca.js')).registerCaCommands },
  { names: ['certs'], load: async () => (await import('./commands/certs.js')).registerCertsCommands },
  { names: ['ceph', 'cephfs', 'k8s'], load: async () => (await import('./commands/ceph.js')).registerCephCommands },
  { names: ['hypervisors', 'hosts', 'servers', 'serve', 'volume-types'], load: async () => (await import('./commands/openstack.js')).registerOpenstackCommands },
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInitCommands },
  { names: ['controller'], load: async () => (await import('./commands/controller.js')).registerControllerCommands },
  { names: ['nodes'], load: async () => (await import('./commands/nodes.js')).registerNodesCommands },
  { names: ['rollout'], load: async () => (await import('./commands/rollout.js')).registerRolloutCommands },
  { names: ['events'], load: async () => (await import('./commands/events.js')).registerEventsCommands },
  { names: ['ui'], load: async () => (await import('./commands/ui.js')).registerUiCommands },
  { names: ['store'], load: async () => (await import('./commands/store.js')).registerStoreCommands },
];

// before any group loads: the packaged CLI's chunks are then compiled once, not on every run (bench P4)
enableCliCompileCache();

const program = controllerProgram();
const first = process.argv[2];
const picked = groups.filter((g) => first && g.names.includes(first));
for (const g of picked.length ? picked : groups) (await g.load())(program);
await runCli(program);
