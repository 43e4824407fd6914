// The kubelet health gate against a real healthz server whose answers are scripted; a virtual
// clock (sleep advances time) makes "continuously for minHealthyMs" exact.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitHealthy } from '../../../agent/health.js';
import type { Clock } from '../../../host/clock.js';
import type { Exec } from '../../../host/exec.js';

let server: http.Server;
let url = '';
let script: number[] = [];
beforeAll(async () => {
  server = http.createServer((_req, res) => res.writeHead(script.shift() ?? 200).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const virtualClock = (): Clock => {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
};
const active: Exec = async (file) => ({ command: file, exitCode: 0, stdout: 'active\n', stderr: '', durationMs: 0 });

describe('health gate: healthy continuously for minHealthyMs within the timeout', () => {
  test('one 200 is not enough: a flap restarts the window; passes once healthy long enough', async () => {
    // 250 ms per check: 200, 200, 500 (flap), then 200s: 1000 ms of health ends at the 8th check.
    script = [200, 200, 500, 200, 200, 200, 200, 200];
    const h = await waitHealthy(active, virtualClock(), { unit: 'kubelet.service', url, timeoutMs: 10_000, minHealthyMs: 1000 });
    expect(h).toMatchObject({ ok: true, reason: 'kubelet.service active, healthz 200 for 1 s' });
    expect(h.waitedMs).toBe(1750);
  });

  test('a kubelet that flaps every other second never passes: the reason says so', async () => {
    script = Array.from({ length: 40 }, (_, i) => (i % 4 === 3 ? 500 : 200));
    const h = await waitHealthy(active, virtualClock(), { unit: 'kubelet.service', url, timeoutMs: 5000, minHealthyMs: 1000 });
    expect(h.ok).toBe(false);
    expect(h.reason).toMatch(/^not healthy within 5 s: kubelet.service active, healthz 200 for only 0(\.\d)? s of the required 1 s$/);
  });

  test('minHealthyMs 0 keeps the old single-200 gate', async () => {
    script = [500, 200];
    const h = await waitHealthy(active, virtualClock(), { unit: 'k', url, timeoutMs: 5000 });
    expect(h).toMatchObject({ ok: true, reason: 'k active, healthz 200', waitedMs: 250 });
  });

  test('a crash-looping unit: the reason says how often systemd restarted it and how its last run ended', async () => {
    script = [];
    let shows = 0;
    const looping: Exec = async (file, args) => {
      const stdout = args[0] === 'show'
        ? (shows++ === 0 ? 'NRestarts=7\nExecMainCode=1\nExecMainStatus=3\n' : 'NRestarts=10\nExecMainCode=1\nExecMainStatus=3\n')
        : 'activating\n';
      return { command: file, exitCode: 0, stdout, stderr: '', durationMs: 0 };
    };
    const h = await waitHealthy(looping, virtualClock(), { unit: 'kubelet.service', url, timeoutMs: 4000 });
    expect(h.ok).toBe(false);
    expect(h.reason).toBe('not healthy within 4 s: kubelet.service is activating; systemd restarted kubelet.service 3 times meanwhile, last exit status 3 (see `journalctl -u kubelet.service`)');
  });

  test('no restarts during the gate: nothing is added', async () => {
    script = Array.from({ length: 40 }, () => 500);
    const steady: Exec = async (file, args) => ({
      command: file, exitCode: 0, stdout: args[0] === 'show' ? 'NRestarts=2\nExecMainCode=0\nExecMainStatus=0\n' : 'active\n', stderr: '', durationMs: 0,
    });
    const h = await waitHealthy(steady, virtualClock(), { unit: 'k', url, timeoutMs: 1000 });
    expect(h.reason).toBe('not healthy within 1 s: k active but healthz 500');
  });
});
