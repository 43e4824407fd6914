import type { Command } from 'commander';

// placeholder: replaced by the owning work item
export function registerOpenstackCommands(_program: Command): void {}
