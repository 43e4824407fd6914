// A throwaway PostgreSQL 15 (Debian's) for the HA store: initdb as the `postgres` user (initdb
// refuses root) into a fresh temp dir, the server on 127.0.0.1 and a free port, password auth over
// TCP (scram), fsync off. Stopped by the pid it started, never by name; the dir is removed.
// Used by the store contract tests, the election tests, the HA e2e and bench P9.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../ports.js';

export interface PostgresLab {
  dir: string;
  port: number;
  /** The superuser's password (user `postgres`). */
  password: string;
  /** postgres://postgres@127.0.0.1:PORT/DB without the password (it goes through PGPASSWORD or a file). */
  url(database?: string): string;
  /** The same with the password in it, for tests that need one string. */
  urlWithPassword(database?: string): string;
  /** The running server's pid. */
  pid(): number;
  /** A fresh, empty database (unique name); returns its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs SQL as the superuser through psql (stdin, never argv); returns stdout. */
  psql(sql: string, database?: string): string;
  /** Fast shutdown and start again on the same port and data (connections are cut). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort() : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed: run `bash lab/install-deps.sh` as root (Debian package postgresql)');
  return path.join(root, versions[versions.length - 1], 'bin');
}

const PG_UID = (): { uid: number; gid: number } => {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('no `postgres` user: install the Debian package postgresql (bash lab/install-deps.sh)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
};

const asPostgres = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'];

export async function startPostgres(opts: { settings?: Record<string, string> } = {}): Promise<PostgresLab> {
  if (process.getuid?.() !== 0) throw new Error('the PostgreSQL lab runs as root (it starts the server as the postgres user)');
  const bin = binDir();
  const owner = PG_UID();
  const dir = mkdtempSync(path.join(tmpdir(), 'nw-pg-'));
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const run = path.join(dir, 'run');
  for (const d of [data, run]) {
    mkdirSync(d, { mode: 0o700 });
    chownSync(d, owner.uid, owner.gid);
  }
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, owner.uid, owner.gid);
  const init = spawnSync(asPostgres[0], [...asPostgres.slice(1), path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--pwfile', pwfile,
    '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'], { encoding: 'utf8' });
  rmSync(pwfile, { force: true });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const settings = { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off', shared_buffers: '32MB', max_connections: '200', ...opts.settings };
  let child: ChildProcess | null = null;

  const psql = (sql: string, database = 'postgres'): string => {
    const r = spawnSync(asPostgres[0], [...asPostgres.slice(1), path.join(bin, 'psql'), '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', run, '-p', String(port), '-U', 'postgres', '-d', database],
      { input: sql, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  };

  const start = async (): Promise<void> => {
    const args = [...asPostgres.slice(1), path.join(bin, 'postgres'), '-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', run,
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const c = spawn(asPostgres[0], args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000); });
    child = c;
    for (let i = 0; i < 200; i++) {
      if (c.exitCode !== null) break;
      if (spawnSync(path.join(bin, 'pg_isready'), ['-q', '-h', run, '-p', String(port)]).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    c.kill('SIGKILL');
    throw new Error(`postgres did not start on port ${port}: ${stderr}`);
  };

  const halt = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGINT'); // fast shutdown: open sessions are cut, the data stays consistent
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let seq = 0;
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    dir, port, password, url,
    urlWithPassword: (database = 'postgres') => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    pid: () => child?.pid ?? 0,
    async createDatabase(prefix = 'nw') {
      const name = `${prefix}_${process.pid}_${++seq}_${randomBytes(3).toString('hex')}`;
      psql(`CREATE DATABASE ${name};`);
      return name;
    },
    psql,
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
