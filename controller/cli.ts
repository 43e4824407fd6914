#!/usr/bin/env node
// nodewright: the controller daemon and the operator CLI.
// Command groups load only when their command runs: start-up cost stays that of one group.
import { Command } from 'commander';
import { runCli } from '../host/cli.js';

type Register = (program: Command) => void;
const groups: Record<string, () => Promise<Register>> = {
  bundle: async () => (await import('./commands/bundle.js')).registerBundleCommands,
  ceph: async () => (await import('./commands/ceph.js')).registerCephCommands,
  openstack: async () => (await import('./commands/openstack.js')).registerOpenstackCommands,
};
const groupOf: Record<string, keyof typeof groups> = {
  keygen: 'bundle',
  bundle: 'bundle',
  ceph: 'ceph',
  cephfs: 'ceph',
  k8s: 'ceph',
  hypervisors: 'openstack',
  hosts: 'openstack',
  servers: 'openstack',
  'volume-types': 'openstack',
  serve: 'openstack',
};

const program = new Command('nodewright').description('nodewright controller and operator CLI').version('0.1.0');
const first = process.argv[2];
const wanted = first && groupOf[first] ? [groupOf[first]] : Object.keys(groups);
for (const g of wanted) (await groups[g]())(program);
await runCli(program);
