// When a drift event becomes a reconcile. No fixed wait by default: the first event of a burst
// triggers at once (leading edge), and the Reconciler coalesces every trigger that arrives while that
// run is going into exactly one more run, which sees whatever the burst left behind (an editor's
// temp file + rename, several files at once, the agent's own writes). `quietMs` > 0 (agent.yaml
// drift.debounceMs) brings back a trailing debounce: trigger once the files were quiet that long.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export class DriftTrigger {
  private timer: unknown = null;

  constructor(
    private readonly quietMs: number,
    private readonly fire: (file: string) => void,
    private readonly timers: Timers = realTimers,
  ) {}

  event(file: string): void {
    if (this.quietMs <= 0) return this.fire(file);
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.fire(file);
    }, this.quietMs);
  }

  cancel(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
