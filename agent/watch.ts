// Drift watch: inotify (fs.watch) on the directories of the files the agent owns (keyring,
// ceph.conf, kubelet unit + drop-ins, kubelet binary); a change to one of them triggers a repair
// (when: agent/drift-trigger.ts). Directories, not files: a file watch follows its inode, and every
// repair (and every editor's temp + rename) replaces the inode, so the next change would go unseen.
// A directory that does not exist yet is watched through its parent until it appears.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { DriftTrigger } from './drift-trigger.js';

export class DriftWatcher {
  private watchers: FSWatcher[] = [];
  private files = new Set<string>();
  private dirsWithin: string[] = [];
  /** Watched directories that did not exist: their parent is watched instead. */
  private missing = new Set<string>();
  private key = '';
  private readonly trigger: DriftTrigger;

  /** `isOwnWrite(file)`: the file is still exactly what the agent itself last wrote (host/fs.ts): no drift, no run. */
  constructor(
    quietMs: number,
    onDrift: (file: string) => void,
    private readonly log: Logger,
    private readonly isOwnWrite: (file: string) => boolean = () => false,
  ) {
    this.trigger = new DriftTrigger(quietMs, onDrift);
  }

  /**
   * (Re)watch `realPaths` (files, or directories whose whole content counts, e.g. unit.d).
   * Returns true when the set changed, or a watched directory came or went since (the caller
   * re-checks once: a change before the watch was in place is not seen).
   */
  async set(realPaths: string[]): Promise<boolean> {
    const key = [...realPaths].sort().join('\n');
    if (key === this.key) return false;
    await this.close();
    this.key = key;
    if (!realPaths.length) return true;
    this.files = new Set(realPaths.filter((p) => !p.endsWith('.d')));
    this.dirsWithin = realPaths.filter((p) => p.endsWith('.d'));
    const dirs = [...new Set(realPaths.map((p) => (p.endsWith('.d') ? p : path.dirname(p))))];
    for (const dir of dirs) {
      const at = existsSync(dir) ? dir : path.dirname(dir);
      if (at !== dir) this.missing.add(dir);
      try {
        const w = watch(at, { persistent: true }, (_ev, name) => this.event(at, name === null ? null : String(name)));
        w.on('error', (e) => this.lost(at, e));
        this.watchers.push(w);
      } catch (e) {
        // Not even the parent exists: the next reconcile creates it and re-sets the watch.
        this.key = '';
        this.log.debug({ dir, err: (e as Error).message }, 'drift watch: directory missing');
      }
    }
    this.log.debug({ dirs, viaParent: [...this.missing] }, 'drift watch ready');
    return true;
  }

  private event(at: string, name: string | null): void {
    const file = name === null ? at : path.join(at, name);
    if (this.missing.has(file) || (name === null && this.missing.size)) {
      // A watched directory appeared (or something happened without a name): watch it itself from now on.
      this.key = '';
      return this.trigger.event(file);
    }
    if (!this.missing.has(at) && !existsSync(at)) {
      // The watched directory itself went away: its watch is dead.
      this.key = '';
      return this.trigger.event(at);
    }
    const mine = name === null || this.files.has(file) || this.dirsWithin.some((d) => file === d || file.startsWith(d + '/'));
    if (mine && !this.isOwnWrite(file)) this.trigger.event(file);
  }

  private lost(at: string, e: Error): void {
    this.log.warn({ dir: at, err: e.message }, 'drift watch lost: re-set after the next reconcile');
    this.key = '';
    this.trigger.event(at);
  }

  async close(): Promise<void> {
    this.trigger.cancel();
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.missing.clear();
  }
}
