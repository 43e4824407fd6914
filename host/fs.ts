// The worker's filesystem, rooted at --root so a sandbox directory can stand in for `/`.
// Every write is atomic (temp + fsync + rename + dir fsync, mode set before rename) and
// replaced files are backed up under the agent's state dir, keeping the last N.
import { promises as fsp, constants as C, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NwError } from './errors.js';

export interface WriteOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  /** Take a backup of the file being replaced (default true). */
  backup?: boolean;
}

export interface Backup {
  /** Path inside the root that was backed up. */
  path: string;
  /** Real path of the backup copy. */
  file: string;
  at: number;
}

export class RootedFs {
  readonly root: string;
  /** State dir as a path inside the root, e.g. /var/lib/nodewright. */
  readonly stateDir: string;
  readonly keepBackups: number;
  /** What this process last wrote at each real path (inode, size, mtime in ns): the drift watch tells its own writes from others'. */
  private readonly lastWritten = new Map<string, string>();

  constructor(root = '/', stateDir = '/var/lib/nodewright', keepBackups = 5) {
    this.root = path.resolve(root);
    this.stateDir = stateDir;
    this.keepBackups = keepBackups;
  }

  /** Map a worker path (absolute, as the worker sees it) to the real path under the root. */
  resolve(p: string): string {
    if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) {
      throw new NwError('NW_PATH_ESCAPE', `invalid path ${JSON.stringify(p)}: give an absolute path inside the root`);
    }
    const segs: string[] = [];
    for (const s of p.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (segs.length === 0) {
          throw new NwError('NW_PATH_ESCAPE', `path ${p} climbs above the root ${this.root}: use a path inside it`);
        }
        segs.pop();
      } else segs.push(s);
    }
    return path.join(this.root, ...segs);
  }

  /**
   * Resolve and follow symlinks one component at a time. Refused (NW_PATH_ESCAPE): a real location
   * outside the root, and — also when the root is `/` — a symlink someone other than root could have
   * planted (the link not owned by root or us, or its directory writable by others without the sticky
   * bit, or owned by another user): e.g. /etc/ceph/ceph.client.k8s.keyring → /etc/shadow made by the
   * owner of a loosely-owned /etc/ceph must not make the agent read or write the link's target.
   */
  async resolveReal(p: string): Promise<string> {
    const lexical = this.resolve(p);
    const rootReal = this.root === '/' ? '/' : await fsp.realpath(this.root);
    const todo = path.relative(this.root, lexical).split(path.sep).filter(Boolean);
    let cur = rootReal;
    let links = 0;
    while (todo.length) {
      const next = path.join(cur, todo.shift()!);
      let st;
      try {
        st = await fsp.lstat(next);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(e, 'resolve', p);
        cur = path.join(next, ...todo);
        break;
      }
      if (!st.isSymbolicLink()) {
        cur = next;
        continue;
      }
      if (++links > 40) throw new NwError('NW_PATH_ESCAPE', `path ${p} has more than 40 symlinks (a loop?): fix the links`);
      await refuseUntrustedLink(next, st.uid, cur, p);
      // `cur` is real already, so resolving the target lexically against it is what the kernel does.
      const target = path.resolve(cur, await fsp.readlink(next));
      todo.unshift(...target.split(path.sep).filter(Boolean));
      cur = '/';
    }
    if (rootReal !== '/' && cur !== rootReal && !cur.startsWith(rootReal + path.sep)) {
      throw new NwError('NW_PATH_ESCAPE', `path ${p} resolves to ${cur}, outside the root ${this.root} (a symlink points out of it): fix or remove the link`);
    }
    return cur;
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fsp.lstat(await this.resolveReal(p));
      return true;
    } catch (e) {
      if (e instanceof NwError) throw e;
      return false;
    }
  }

  async readFile(p: string): Promise<Buffer> {
    try {
      return await fsp.readFile(await this.resolveReal(p));
    } catch (e) {
      throw fsError(e, 'read', p);
    }
  }

  async readText(p: string): Promise<string> {
    return (await this.readFile(p)).toString('utf8');
  }

  /** Read a file, or null when it does not exist. */
  async readTextIfExists(p: string): Promise<string | null> {
    try {
      return await fsp.readFile(await this.resolveReal(p), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fsError(e, 'read', p);
    }
  }

  async stat(p: string) {
    return fsp.stat(await this.resolveReal(p));
  }

  async readdir(p: string): Promise<string[]> {
    try {
      return (await fsp.readdir(await this.resolveReal(p))).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fsError(e, 'list', p);
    }
  }

  async mkdirp(p: string, mode = 0o755): Promise<void> {
    await fsp.mkdir(await this.resolveReal(p), { recursive: true, mode });
  }

  async remove(p: string): Promise<void> {
    await fsp.rm(await this.resolveReal(p), { force: true });
  }

  /** Atomically replace (or create) a file. Returns the backup taken, if any. */
  async writeAtomic(p: string, data: string | Buffer, opts: WriteOptions = {}): Promise<Backup | null> {
    const target = await this.resolveReal(p);
    const dir = path.dirname(target);
    await fsp.mkdir(dir, { recursive: true });
    let previousMode: number | undefined;
    let backup: Backup | null = null;
    try {
      const st = await fsp.stat(target);
      previousMode = st.mode & 0o7777;
      if (opts.backup !== false) backup = await this.backup(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, 'stat', p);
    }
    const tmp = path.join(dir, `.${path.basename(target)}.nw-${randomBytes(6).toString('hex')}`);
    let written = '';
    try {
      const fh = await fsp.open(tmp, C.O_CREAT | C.O_EXCL | C.O_WRONLY | C.O_NOFOLLOW, 0o600);
      try {
        await fh.writeFile(data);
        await fh.chmod(opts.mode ?? previousMode ?? 0o644);
        if (opts.uid !== undefined || opts.gid !== undefined) await fh.chown(opts.uid ?? -1, opts.gid ?? -1);
        await fh.sync();
        written = signature(await fh.stat({ bigint: true }));
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, target);
      this.lastWritten.set(target, written);
      await fsyncPath(dir);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw fsError(e, 'write', p);
    }
    return backup;
  }

  /** True when the file at `realPath` is still exactly the one this process last wrote there (a rename keeps inode and mtime). */
  isOwnWrite(realPath: string): boolean {
    const mine = this.lastWritten.get(realPath);
    if (!mine) return false;
    try {
      return signature(statSync(realPath, { bigint: true })) === mine;
    } catch {
      return false;
    }
  }

  /** Copy the current file into the backup area; prune to the last N copies. */
  async backup(p: string): Promise<Backup> {
    const src = await this.resolveReal(p);
    const dir = this.resolve(path.posix.join(this.stateDir, 'backups', encodeName(p)));
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const at = Date.now();
    const file = path.join(dir, `${at}-${randomBytes(3).toString('hex')}`);
    await fsp.copyFile(src, file);
    const st = await fsp.stat(src);
    await fsp.chmod(file, st.mode & 0o7777);
    const all = (await fsp.readdir(dir)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - this.keepBackups))) {
      await fsp.rm(path.join(dir, old), { force: true });
    }
    return { path: p, file, at };
  }

  /** Backups of a path, newest last. */
  async backups(p: string): Promise<Backup[]> {
    const dir = this.resolve(path.posix.join(this.stateDir, 'backups', encodeName(p)));
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    return names.sort().map((n) => ({ path: p, file: path.join(dir, n), at: Number(n.split('-')[0]) }));
  }

  /** Put a backup back in place, atomically, keeping its mode. */
  async restore(b: Backup): Promise<void> {
    const data = await fsp.readFile(b.file);
    const st = await fsp.stat(b.file);
    await this.writeAtomic(b.path, data, { mode: st.mode & 0o7777, backup: false });
  }
}

const signature = (st: { ino: bigint; size: bigint; mtimeNs: bigint }) => `${st.ino}:${st.size}:${st.mtimeNs}`;

const trustedUid = (uid: number) => uid === 0 || uid === (process.getuid?.() ?? 0);

/** A symlink is followed only if nobody but root (or the agent's user) could have put it there. */
async function refuseUntrustedLink(link: string, linkUid: number, dir: string, p: string): Promise<void> {
  const d = await fsp.stat(dir);
  const othersMayWrite = (d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0; // sticky: only owners rename/remove
  if (!trustedUid(linkUid) || !trustedUid(d.uid) || othersMayWrite) {
    throw new NwError(
      'NW_PATH_ESCAPE',
      `path ${p} goes through the symlink ${link} (owner uid ${linkUid}, in ${dir} owned by uid ${d.uid}, mode ${(d.mode & 0o7777).toString(8)}), which someone other than root could have planted: remove the link, or make ${dir} root-owned and not writable by others`,
    );
  }
}

function encodeName(p: string): string {
  return p.replace(/^\/+/, '').replace(/\//g, '%2F');
}

/** fsync a file or a directory (a directory: so a rename in it is durable). */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await fsp.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsError(e: unknown, op: string, p: string): NwError {
  if (e instanceof NwError) return e;
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === 'ENOENT' ? 'the file does not exist' : err.code === 'EACCES' ? 'permission denied (run as root?)' : err.message;
  return new NwError('NW_FS', `cannot ${op} ${p}: ${hint}`, { errno: err.code });
}
