// `nodewright controller run --config controller.yaml`: the controller daemon (systemd Type=notify).
import type { Command } from 'commander';

export function registerControllerCommands(program: Command): void {
  const c = program.command('controller').description('the central controller daemon');
  c.command('run')
    .description('run the controller (API over TLS, store, poller) until SIGTERM')
    .option('--config <file>', 'controller config', '/etc/nodewright/controller.yaml')
    .action(async (o: { config: string }) => {
      const [{ loadControllerConfig }, { createControllerLogger }, { runControllerDaemon }] = await Promise.all([import('../config.js'), import('../log.js'), import('../daemon.js')]);
      const config = await loadControllerConfig(o.config);
      await runControllerDaemon(config, createControllerLogger(config.log.level));
      await new Promise(() => {}); // the daemon exits from its signal handler
    });
}
