// Drift watch: chokidar on the directories of the files the agent owns (keyring, ceph.conf,
// kubelet unit + drop-ins, kubelet binary); a change to one of them triggers a debounced repair.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';

export class DriftWatcher {
  private watcher: FSWatcher | null = null;
  private files = new Set<string>();
  private dirsWithin: string[] = [];
  private key = '';
  private timer: NodeJS.Timeout | null = null;
  lastEventAt = 0;

  constructor(
    private readonly debounceMs: number,
    private readonly onDrift: (file: string) => void,
    private readonly log: Logger,
  ) {}

  /**
   * (Re)watch `realPaths` (files, or directories whose whole content counts, e.g. unit.d).
   * Returns true when the set changed (the caller re-checks once: drift before `ready` is not seen).
   */
  async set(realPaths: string[]): Promise<boolean> {
    const key = [...realPaths].sort().join('\n');
    if (key === this.key) return false;
    this.key = key;
    await this.close();
    if (!realPaths.length) return true;
    this.files = new Set(realPaths.filter((p) => !p.endsWith('.d')));
    this.dirsWithin = realPaths.filter((p) => p.endsWith('.d'));
    const dirs = [...new Set(realPaths.map((p) => (p.endsWith('.d') ? p : path.dirname(p))))];
    this.watcher = watch(dirs, { ignoreInitial: true, depth: 0, atomic: false, persistent: true });
    this.watcher.on('all', (_ev, file) => this.event(file));
    this.watcher.on('error', (e) => this.log.warn({ err: e }, 'drift watch error'));
    await new Promise<void>((r) => this.watcher!.once('ready', () => r()));
    this.log.debug({ dirs }, 'drift watch ready');
    return true;
  }

  private event(file: string): void {
    const mine = this.files.has(file) || this.dirsWithin.some((d) => file === d || file.startsWith(d + '/'));
    if (!mine) return;
    this.lastEventAt = performance.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDrift(file);
    }, this.debounceMs);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const w = this.watcher;
    this.watcher = null;
    await w?.close();
  }
}
