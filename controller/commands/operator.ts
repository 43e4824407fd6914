// Shared by the operator commands: --operator-config and --json, one client per command, output.
import type { Command } from 'commander';
import { controllerClient, loadOperatorConfig, type ControllerClient } from './client.js';
import { fieldText, jsonText, terminalText } from './safe-text.js';

export interface OperatorOpts {
  operatorConfig?: string;
  json?: boolean;
}

export const withOperator = (cmd: Command, json = true): Command => {
  cmd.option('--operator-config <file>', 'operator.yaml (default: $NODEWRIGHT_OPERATOR_CONFIG, else ~/.config/nodewright/operator.yaml)');
  return json ? cmd.option('--json', 'print JSON') : cmd;
};

export async function withClient<T>(o: OperatorOpts, fn: (c: ControllerClient) => Promise<T>): Promise<T> {
  const c = controllerClient(loadOperatorConfig(o.operatorConfig));
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Every line the operator commands print goes through here: no terminal controls (safe-text.ts). */
export const out = (s: string): void => {
  const t = terminalText(s);
  process.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
};
export const printJson = (v: unknown) => out(jsonText(v, 2));

export function formatTable(headers: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map(fieldText));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
