import { describe, expect, test } from 'vitest';
import { Reconciler } from '../../../agent/reconciler.js';
import type { ReconcileResult } from '../../../agent/reconcile.js';
import { tokenMatches } from '../../../agent/server.js';
import { createNotifier } from '../../../systemd/notify.js';

const result = (trigger: string) => ({ trigger }) as unknown as ReconcileResult;

describe('Reconciler', () => {
  test('one at a time; triggers during a run coalesce into exactly one more run', async () => {
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    const r = new Reconciler(async (t) => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs.push(t);
      await new Promise((res) => setTimeout(res, 30));
      active--;
      return result(t);
    });
    const a = r.trigger('start');
    const b = r.trigger('drift');
    const c = r.trigger('schedule');
    const d = r.trigger('drift');
    expect((await a)?.trigger).toBe('start');
    expect((await b)?.trigger).toBe('drift+schedule');
    expect(await c).toBe(await b);
    expect(await d).toBe(await b);
    await r.idle();
    expect(runs).toEqual(['start', 'drift+schedule']);
    expect(maxActive).toBe(1);
  });
  test('a failing run does not block the next', async () => {
    let n = 0;
    const r = new Reconciler(async (t) => {
      if (n++ === 0) throw new Error('boom');
      return result(t);
    });
    await expect(r.trigger('a')).rejects.toThrow('boom');
    expect((await r.trigger('b'))?.trigger).toBe('b');
  });
});

describe('bearer token', () => {
  test('exact match only', () => {
    const t = 'x'.repeat(40);
    expect(tokenMatches(`Bearer ${t}`, t)).toBe(true);
    expect(tokenMatches(undefined, t)).toBe(false);
    expect(tokenMatches(t, t)).toBe(false);
    expect(tokenMatches(`Bearer ${t}y`, t)).toBe(false);
    expect(tokenMatches('Bearer ', t)).toBe(false);
  });
});

describe('notifier', () => {
  test('disabled without NOTIFY_SOCKET; watchdog at half of WATCHDOG_USEC, only for our pid', () => {
    expect(createNotifier({ env: {} }).enabled).toBe(false);
    expect(createNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '3000000' } }).watchdogIntervalMs).toBe(1500);
    expect(createNotifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '3000000', WATCHDOG_PID: '1' }, pid: 2 }).watchdogIntervalMs).toBeNull();
    expect(createNotifier({ env: { NOTIFY_SOCKET: '/run/x' } }).watchdogIntervalMs).toBeNull();
  });
});
