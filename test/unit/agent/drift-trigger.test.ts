import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DriftTrigger } from '../../../agent/drift-trigger.js';
import { Reconciler } from '../../../agent/reconciler.js';
import type { ReconcileResult } from '../../../agent/reconcile.js';

const DESIRED = '[client.k8s]\n\tkey = K\n';

/** A watched keyring and an agent whose reconcile reads it at the start and repairs it after `runMs`. */
function world(quietMs: number, runMs = 10) {
  const file = { text: DESIRED };
  const runs: { trigger: string; saw: string }[] = [];
  const reconciler = new Reconciler(async (trigger) => {
    const saw = file.text;
    runs.push({ trigger, saw });
    await new Promise((r) => setTimeout(r, runMs));
    if (saw !== DESIRED) file.text = DESIRED; // apply (an atomic rename: a writer's open fd keeps the old inode)
    return { trigger } as unknown as ReconcileResult;
  });
  const trigger = new DriftTrigger(quietMs, () => void reconciler.trigger('drift'));
  return { file, runs, reconciler, trigger };
}

describe('drift trigger (agent/drift-trigger.ts)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('quiet 0: the first event triggers at once, no timer', () => {
    const fire = vi.fn();
    new DriftTrigger(0, fire).event('/etc/ceph/k.keyring');
    expect(fire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a burst becomes one run at once plus exactly one more that sees the end of the burst', async () => {
    const w = world(0);
    for (let i = 0; i < 50; i++) {
      w.file.text = `tampered ${i}\n`;
      w.trigger.event('k');
    }
    expect(w.runs).toHaveLength(1); // started synchronously, no wait
    await vi.runAllTimersAsync();
    await w.reconciler.idle();
    expect(w.runs.map((r) => r.trigger)).toEqual(['drift', 'drift']);
    expect(w.file.text).toBe(DESIRED);
  });

  test('an event while a run is going re-runs once after it (the change after its observe is not lost)', async () => {
    const w = world(0, 30);
    w.file.text = 'tampered\n';
    w.trigger.event('k');
    await vi.advanceTimersByTimeAsync(5); // the run has read the file and is applying
    w.file.text = 'tampered again\n';
    w.trigger.event('k');
    w.trigger.event('k');
    await vi.runAllTimersAsync();
    await w.reconciler.idle();
    expect(w.runs).toHaveLength(2);
    expect(w.runs[1].saw).toBe(DESIRED); // the first run's repair (rename) replaced the second tamper's inode
    expect(w.file.text).toBe(DESIRED);
  });

  test('an editor writing in place (truncate, then write) is repaired even when the run starts in between', async () => {
    const w = world(0, 20);
    w.file.text = ''; // O_TRUNC: the first event, the run sees an empty file
    w.trigger.event('k');
    await vi.advanceTimersByTimeAsync(1);
    w.file.text = 'edited by hand\n'; // its write lands after the run read the file
    w.trigger.event('k');
    await vi.runAllTimersAsync();
    await w.reconciler.idle();
    // The second event re-ran the check once; the first run's rename had already put the keyring back.
    expect(w.runs.map((r) => r.saw)).toEqual(['', DESIRED]);
    expect(w.file.text).toBe(DESIRED);
  });

  test('an editor writing a temp file and renaming it: one event for the watched file, one repair', async () => {
    const w = world(0);
    w.file.text = 'edited by hand\n'; // the rename into place (the temp file is not watched)
    w.trigger.event('k');
    await vi.runAllTimersAsync();
    await w.reconciler.idle();
    expect(w.runs).toEqual([{ trigger: 'drift', saw: 'edited by hand\n' }]);
    expect(w.file.text).toBe(DESIRED);
  });

  test('quiet N > 0 (drift.debounceMs): one trigger after N ms without events', async () => {
    const fire = vi.fn();
    const t = new DriftTrigger(100, fire);
    t.event('a');
    await vi.advanceTimersByTimeAsync(50);
    t.event('b');
    await vi.advanceTimersByTimeAsync(90);
    t.event('c');
    await vi.advanceTimersByTimeAsync(99);
    expect(fire).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(fire).toHaveBeenCalledWith('c');
  });

  test('cancel drops a pending trigger', async () => {
    const fire = vi.fn();
    const t = new DriftTrigger(100, fire);
    t.event('a');
    t.cancel();
    await vi.advanceTimersByTimeAsync(500);
    expect(fire).not.toHaveBeenCalled();
  });
});
