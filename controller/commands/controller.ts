// `nodewright controller run --config controller.yaml [--listen ADDR]`: the controller daemon (systemd
// Type=notify). --listen runs another member of an HA fleet from the same directory: it replaces the
// file's listen (and the member's name and URL derived from it); the fleet URL stays the file's.
import type { Command } from 'commander';
import { controllerStatusJson, formatControllerStatus, haStatusFromAnswer } from './controller-status.js';
import { out, printJson, withClient, withOperator, type OperatorOpts } from './operator.js';

export function registerControllerCommands(program: Command): void {
  const c = program.command('controller').description('the central controller daemon');
  c.command('run')
    .description('run the controller (API over TLS, store, poller) until SIGTERM')
    .option('--config <file>', 'controller config', '/etc/nodewright/controller.yaml')
    .option('--listen <host:port>', 'listen here instead of the config\'s listen (another controller of the same fleet)')
    .action(async (o: { config: string; listen?: string }) => {
      const [{ loadControllerConfig }, { createControllerLogger }, { runControllerDaemon }] = await Promise.all([import('../config.js'), import('../log.js'), import('../daemon.js')]);
      const config = await loadControllerConfig(o.config, o.listen === undefined ? {} : { listen: o.listen });
      await runControllerDaemon(config, createControllerLogger(config.log.level));
      await new Promise(() => {}); // the daemon exits from its signal handler
    });
  withOperator(c.command('status').description('the controllers of the fleet: leader, epoch, each member\'s last heartbeat (asks the first that answers)')).action(async (o: OperatorOpts) => {
    const status = haStatusFromAnswer(await withClient(o, (client) => client.request('GET', '/v1/controller/status')));
    if (o.json) printJson(controllerStatusJson(status));
    else out(formatControllerStatus(status));
  });
}
