#!/usr/bin/env node
// Lab-only entry of nodewright-agent: the shipped CLI plus phase pauses, so an e2e can kill the
// agent at a known point of a change. Production cannot enable this: agent.yaml has no such key
// and the shipped CLI (agent/cli.ts) injects no hook. `npm run package` bundles this entry into
// dist/pkg/lab/agent-hooked.mjs, beside the packages and never inside one; lab/worker/provision.sh
// installs it in lab workers only, run by the package's own node through a drop-in that replaces
// the unit's ExecStart. Pauses are read once at start from
// /etc/nodewright/lab-hooks.json (NW_LAB_HOOKS overrides the path), e.g.
//   {"pauseMs": {"artifact:staged": 4000, "unit:written": 5000}}
import { readFileSync } from 'node:fs';
import { runCli } from '../../host/cli.js';
import { agentProgram } from '../../agent/program.js';
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

await runCli(agentProgram({ onPhase }, 'nodewright worker agent (lab entry with phase hooks)'));
