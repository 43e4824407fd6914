import type { Command } from 'commander';

// placeholder: replaced by the owning work item
export function registerUnitCommands(_program: Command): void {}
