import type { Command } from 'commander';

// placeholder: replaced by the owning work item
export function registerCephCommands(_program: Command): void {}
