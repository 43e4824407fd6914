// One reconcile at a time; triggers that arrive meanwhile coalesce into one next run.
import type { ReconcileResult } from './reconcile.js';

/** Serialises reconciles; a trigger during a run schedules exactly one more run after it. */
export class Reconciler {
  private running: Promise<ReconcileResult | null> | null = null;
  private next: { promise: Promise<ReconcileResult | null>; reasons: string[] } | null = null;
  constructor(private readonly runOnce: (trigger: string) => Promise<ReconcileResult | null>) {}

  get busy(): boolean {
    return this.running !== null;
  }

  trigger(reason: string): Promise<ReconcileResult | null> {
    if (this.next) {
      if (!this.next.reasons.includes(reason)) this.next.reasons.push(reason);
      return this.next.promise;
    }
    if (!this.running) return this.start(reason);
    const reasons = [reason];
    const current = this.running;
    const promise = current.catch(() => null).then(() => {
      this.next = null;
      return this.start(reasons.join('+'));
    });
    this.next = { promise, reasons };
    return promise;
  }

  private start(reason: string): Promise<ReconcileResult | null> {
    const p = this.runOnce(reason).finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  /** Wait for the current (and queued) run to finish. */
  async idle(): Promise<void> {
    while (this.running || this.next) await (this.next?.promise ?? this.running)?.catch(() => null);
  }
}
