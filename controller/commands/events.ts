// nodewright events [--follow] [--json]: the audit log (who did what, when).
import type { Command } from 'commander';
import { out, withClient, withOperator, type OperatorOpts } from './operator.js';
import { fieldText as f, jsonText } from './safe-text.js';

interface EventView {
  id: number;
  at: string;
  actor: string;
  kind: string;
  subject: string;
  message: string;
}

const line = (e: EventView, json?: boolean) => (json ? jsonText(e) : `${f(e.at)}  ${f(e.actor).padEnd(20)} ${f(e.kind).padEnd(18)} ${f(e.message)}`);

export function registerEventsCommands(program: Command): void {
  withOperator(
    program.command('events').description('the controller audit log').option('--follow', 'keep printing new events').option('--after <id>', 'only events after this id', '0'),
  ).action(async (o: OperatorOpts & { follow?: boolean; after: string }) => {
    await withClient(o, async (c) => {
      if (!o.follow) {
        const r = await c.request<{ events: EventView[] }>('GET', `/v1/events?after=${Number(o.after) || 0}`);
        for (const e of r.events) out(line(e, o.json));
        return;
      }
      let buf = '';
      await c.stream(`/v1/events?follow=1&after=${Number(o.after) || 0}`, (chunk) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const e = JSON.parse(buf.slice(0, nl)) as EventView;
          buf = buf.slice(nl + 1);
          out(line(e, o.json));
        }
      });
    });
  });
}
