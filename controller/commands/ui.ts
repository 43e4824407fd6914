// nodewright ui [--json] [--open] [--read-only] [--revoke [--operator NAME]]: a one-time dashboard
// sign-in link (valid 60 s, single use) on the controller reached with the operator credential;
// --revoke ends every dashboard session, or one operator's.
import type { Command } from 'commander';
import { NwError, isNwError } from '../../host/errors.js';
import { exec } from '../../host/exec.js';
import type { LoginCodeJson } from '../api/routes/ui-sessions.js';
import { loginUrl } from '../ui/secrets.js';
import { out, withClient, withOperator, type OperatorOpts } from './operator.js';

interface UiOpts extends OperatorOpts { open?: boolean; readOnly?: boolean; revoke?: boolean; operator?: string }

/** What xdg-open needs to find the desktop's browser (its own environment is otherwise cleared). */
const OPENER_ENV = ['PATH', 'HOME', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR', 'XDG_CURRENT_DESKTOP', 'XDG_DATA_DIRS', 'XDG_CONFIG_DIRS', 'DBUS_SESSION_BUS_ADDRESS', 'BROWSER'];

/** `xdg-open URL`: a short-lived process (the link is single use and valid 60 s, so its argv exposes nothing lasting). */
export async function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pass = Object.fromEntries(OPENER_ENV.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]!]])));
  try {
    await exec('xdg-open', [url], { env: pass, timeoutMs: 15_000 });
  } catch (e) {
    if (isNwError(e) && e.code === 'NW_EXEC_MISSING') {
      throw new NwError('NW_EXEC_MISSING', 'no xdg-open on PATH to open the link with: open the link printed above in your browser yourself (or install xdg-utils)');
    }
    throw e;
  }
}

export function registerUiCommands(program: Command): void {
  withOperator(
    program
      .command('ui')
      .description('sign a browser in to the dashboard: prints a one-time link (valid 60 s, single use)')
      .option('--open', 'open the link with xdg-open')
      .option('--read-only', 'a viewer session: pages only, no actions')
      .option('--revoke', 'end every dashboard session instead')
      .option('--operator <name>', 'with --revoke: end only this operator\'s sessions (the common name of their certificate)'),
  ).action(async (o: UiOpts) => {
    if (o.revoke && (o.open || o.readOnly)) throw new NwError('NW_USAGE', '--revoke makes no link: give it without --open and --read-only');
    if (o.operator !== undefined && !o.revoke) throw new NwError('NW_USAGE', '--operator names whose sessions --revoke ends: give it with --revoke');
    await withClient(o, async (c) => {
      if (o.revoke) {
        const query = o.operator === undefined ? '' : `?operator=${encodeURIComponent(o.operator)}`;
        const { revoked } = await c.request<{ revoked: number }>('DELETE', `/v1/ui/sessions${query}`);
        out(o.json ? JSON.stringify({ revoked }) : `ended ${revoked} dashboard session${revoked === 1 ? '' : 's'}`);
        return;
      }
      const r = await c.request<LoginCodeJson>('POST', '/v1/ui/login-codes', { readOnly: o.readOnly === true });
      const url = loginUrl(c.reached()!, r.code);
      out(o.json ? JSON.stringify({ url, expiresAt: r.expiresAt }) : `${url}\nvalid 60 s, single use${o.readOnly ? ', read-only' : ''}: open it in your browser now`);
      if (o.open) await openInBrowser(url);
    });
  });
}
