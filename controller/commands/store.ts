// nodewright store migrate --from sqlite:PATH --to postgres://USER@HOST:PORT/DB: moves an
// installation's store and artifact blobs into an empty PostgreSQL database (offline: stop the
// controller first) and prints each table's count on both sides. The password comes from
// PGPASSWORD or --password-file, never from argv (a URL with a password in it is refused).
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { readText } from './files.js';
import { formatTable, out } from './operator.js';

/** The database password: the file's first line, else PGPASSWORD (left to `pg`). */
export async function databasePassword(o: { to: string; passwordFile?: string }): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(o.to);
  } catch {
    throw new NwError('NW_USAGE', `--to must be a postgres:// URL (postgres://USER@HOST:PORT/DATABASE)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new NwError('NW_USAGE', `--to must be a postgres:// URL, not ${url.protocol}`);
  if (url.password) {
    throw new NwError('NW_USAGE', 'the --to URL holds a password, which every user can read from the process list: give it in PGPASSWORD or --password-file');
  }
  if (!o.passwordFile) return undefined;
  const password = (await readText(o.passwordFile, 'password file')).split('\n')[0].replace(/\r$/, '');
  if (!password) throw new NwError('NW_USAGE', `password file ${o.passwordFile} is empty`);
  return password;
}

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description("the controller's database");
  store
    .command('migrate')
    .description('copy a SQLite installation (store and artifact blobs) into an empty PostgreSQL database; stop the controller first')
    .requiredOption('--from <sqlite:PATH>', "sqlite: and the controller's state directory")
    .requiredOption('--to <url>', 'postgres://USER@HOST:PORT/DATABASE (an empty database; no password in it)')
    .option('--password-file <file>', 'the database password (else PGPASSWORD)')
    .action(async (o: { from: string; to: string; passwordFile?: string }) => {
      const { copySqliteToPostgres, sqliteStateDir } = await import('../store/copy.js');
      const stateDir = sqliteStateDir(o.from);
      const password = await databasePassword(o);
      const counts = await copySqliteToPostgres({ stateDir, connectionString: o.to, password });
      out(formatTable(['TABLE', 'SQLITE', 'POSTGRES'], counts.map((c) => [c.table, String(c.source), String(c.target)])));
      out(`migrated ${stateDir} to ${o.to}: every count matches; point controller.yaml \`store:\` at the database`);
    });
}
