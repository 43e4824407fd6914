import type { Command } from 'commander';

// placeholder: replaced by the owning work item
export function registerBundleCommands(_program: Command): void {}
