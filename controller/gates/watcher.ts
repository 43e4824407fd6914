// Evaluates the gates of every rollout that has some, continuously (every intervalMs, each check
// with its own deadline), keeps the latest result of each and tells the executor when one changed,
// so the pure engine sees gate results the way it sees node observations. It starts watching a
// rollout on its first transition (or at start-up) and stops when it finishes or halts.
import { gateName, type GateResult, type GateSpec } from '../rollout/gates.js';
import type { RolloutState } from '../rollout/engine.js';
import { isFinished } from '../rollout/summary.js';
import type { GateVerdict } from './verdict.js';

export interface GateWatcherDeps {
  /** Run one gate for a rollout (its desired state names the Ceph cluster). Never throws: errors hold. */
  check(gate: GateSpec, rollout: RolloutState): Promise<GateVerdict>;
  /** A result changed (or the first ones came in): step the rollout. */
  changed(rolloutId: string): void;
  /** Each evaluation, for /metrics. */
  evaluated?(gate: string, pass: boolean): void;
  intervalMs: number;
}

interface Watch {
  state: RolloutState;
  results: GateResult[] | undefined;
  timer: NodeJS.Timeout | null;
  running: boolean;
}

const watching = (s: RolloutState): boolean => (s.strategy.gates?.length ?? 0) > 0 && !isFinished(s) && s.state !== 'halted';

export class GateWatcher {
  private readonly watches = new Map<string, Watch>();
  private stopped = false;

  constructor(private readonly deps: GateWatcherDeps) {}

  /** The latest results of a rollout's gates (undefined before the first evaluation). */
  results(id: string): GateResult[] | undefined {
    return this.watches.get(id)?.results;
  }

  /** A rollout as loaded or committed: watched while it has gates and is going. */
  track(s: RolloutState): void {
    if (this.stopped) return;
    const w = this.watches.get(s.id);
    if (!watching(s)) {
      if (w?.timer) clearTimeout(w.timer);
      this.watches.delete(s.id);
      return;
    }
    if (w) {
      w.state = s;
      return;
    }
    const fresh: Watch = { state: s, results: undefined, timer: null, running: false };
    this.watches.set(s.id, fresh);
    void this.evaluate(s.id, fresh);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
  }

  /** Resolves when no evaluation is running (tests). */
  async idle(): Promise<void> {
    while ([...this.watches.values()].some((w) => w.running)) await new Promise((r) => setTimeout(r, 20));
  }

  private async evaluate(id: string, w: Watch): Promise<void> {
    w.running = true;
    const gates = w.state.strategy.gates ?? [];
    const verdicts = await Promise.all(gates.map((g) => this.deps.check(g, w.state).catch((e: unknown) => ({ pass: false, message: `check failed: ${e instanceof Error ? e.message : String(e)}` }))));
    w.running = false;
    if (this.stopped || this.watches.get(id) !== w) return;
    const results = verdicts.map((v, index) => ({ index, gate: gateName(gates[index]), pass: v.pass, message: v.message }));
    for (const r of results) this.deps.evaluated?.(r.gate, r.pass);
    const changed = JSON.stringify(results) !== JSON.stringify(w.results);
    w.results = results;
    if (changed) this.deps.changed(id);
    w.timer = setTimeout(() => {
      w.timer = null;
      void this.evaluate(id, w);
    }, this.deps.intervalMs);
    w.timer.unref();
  }
}
