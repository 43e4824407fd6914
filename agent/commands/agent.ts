import type { Command } from 'commander';

// placeholder: replaced by the owning work item
export function registerAgentCommands(_program: Command): void {}
