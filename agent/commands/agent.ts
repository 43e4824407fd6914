// nodewright-agent run | plan | apply: the daemon, and the agent used without a controller.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import type { AgentHooks } from '../agent.js';

// Each command loads what it needs when it runs (the daemon's start-up time counts).
const DEFAULT_CONFIG_PATH = '/etc/nodewright/agent.yaml';
const load = async () => {
  const [{ loadAgentConfig }, { createLogger }, { Agent }] = await Promise.all([import('../config.js'), import('../log.js'), import('../agent.js')]);
  return { loadAgentConfig, createLogger, Agent };
};
/** What `run` loads before READY=1; the packaged agent's snapshot holds all of it (agent/snapshot.ts). */
export const loadDaemon = () => Promise.all([load(), import('../daemon.js')]);

async function readBundle(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read bundle ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NwError('NW_BUNDLE', `${file} is not JSON (${(e as Error).message}): pass the output of \`nodewright bundle sign\``);
  }
}

/** `hooks` come only from a test entry (lab/worker/agent-hooked.ts); the shipped CLI passes none. */
export function registerAgentCommands(program: Command, hooks: AgentHooks = {}): void {
  program
    .command('run')
    .description('run the agent daemon (systemd Type=notify service)')
    .option('--config <file>', 'agent config', DEFAULT_CONFIG_PATH)
    .action(async (o: { config: string }) => {
      const [{ loadAgentConfig, createLogger }, { runDaemon }] = await loadDaemon();
      const config = await loadAgentConfig(o.config, os.hostname());
      await runDaemon(config, createLogger(config.log.level), hooks);
      await new Promise(() => {}); // the daemon exits from its signal handler
    });

  program
    .command('plan')
    .description('print what a reconcile would change (keys redacted); changes nothing')
    .option('--config <file>', 'agent config', DEFAULT_CONFIG_PATH)
    .option('--bundle <file>', 'signed bundle to plan against (default: the accepted one)')
    .action(async (o: { config: string; bundle?: string }) => {
      const { loadAgentConfig, createLogger, Agent } = await load();
      const config = await loadAgentConfig(o.config, os.hostname());
      const agent = await Agent.create(config, createLogger('warn'));
      let d = agent.desired();
      if (o.bundle) {
        const { verifyBundle } = await import('../../protocol/bundle.js');
        const { readPublicKey } = await import('../agent.js');
        d = verifyBundle(await readBundle(o.bundle), await readPublicKey(config.publicKeyFile));
      }
      if (!d) throw new NwError('NW_USAGE', 'no desired state accepted yet: pass --bundle FILE');
      const plan = await agent.plan(d);
      for (const p of plan) {
        process.stdout.write(`== ${p.step}: ${p.state}\n${p.text ? p.text + '\n' : ''}`);
      }
    });

  program
    .command('apply')
    .description('verify a signed bundle, apply it once (recovery pass first) and exit')
    .option('--config <file>', 'agent config', DEFAULT_CONFIG_PATH)
    .requiredOption('--bundle <file>', 'signed bundle (from `nodewright bundle sign`)')
    .option('--json', 'print the resulting status as JSON')
    .action(async (o: { config: string; bundle: string; json?: boolean }) => {
      const { loadAgentConfig, createLogger, Agent } = await load();
      const config = await loadAgentConfig(o.config, os.hostname());
      const bundle = await readBundle(o.bundle);
      const { acquireLock } = await import('../lock.js');
      const lock = await acquireLock(path.join(config.root, config.stateDir), 'nodewright-agent apply');
      let r, s;
      try {
        const agent = await Agent.create(config, createLogger(config.log.level), hooks);
        await agent.accept(bundle);
        await agent.recover();
        r = await agent.reconcile('apply');
        s = agent.status();
      } finally {
        await lock.release();
      }
      if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else for (const st of s.steps) process.stdout.write(`${st.name.padEnd(9)} ${st.state.padEnd(14)} ${st.message}\n`);
      if (!r?.converged) process.exitCode = 1;
    });
}
