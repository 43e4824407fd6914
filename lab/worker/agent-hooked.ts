#!/usr/bin/env node
// Lab-only entry of nodewright-agent: the shipped CLI plus phase pauses, so an e2e can kill the
// agent at a known point of a change. Production cannot enable this: agent.yaml has no such key
// and the shipped CLI (agent/cli.ts) injects no hook. The lab workers' /usr/local/bin/nodewright-agent
// runs this entry (lab/worker/provision.sh). Pauses are read once at start from
// /etc/nodewright/lab-hooks.json (NW_LAB_HOOKS overrides the path), e.g.
//   {"pauseMs": {"artifact:staged": 4000, "unit:written": 5000}}
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runCli } from '../../host/cli.js';
import { registerUnitCommands } from '../../agent/commands/unit.js';
import { registerAgentCommands } from '../../agent/commands/agent.js';
import { registerJoinCommand } from '../../agent/commands/join.js';
import type { Phase } from '../../agent/steps/types.js';

function readPauses(file: string): Partial<Record<Phase, number>> {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pauseMs?: Partial<Record<Phase, number>> }).pauseMs ?? {};
  } catch {
    return {};
  }
}

const pauses = readPauses(process.env.NW_LAB_HOOKS ?? '/etc/nodewright/lab-hooks.json');
const onPhase = async (phase: Phase) => {
  const ms = pauses[phase] ?? 0;
  if (ms <= 0) return;
  process.stderr.write(`lab hook: pausing ${ms} ms at ${phase}\n`);
  await new Promise((r) => setTimeout(r, ms));
};

const program = new Command('nodewright-agent').description('nodewright worker agent (lab entry with phase hooks)').version('0.1.0');
registerUnitCommands(program);
registerAgentCommands(program, { onPhase });
registerJoinCommand(program);
await runCli(program);
