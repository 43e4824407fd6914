// The daemon in this process (agent/daemon.ts with injected hooks) with the largest kubelet timeouts
// the config allows: READY=1 comes before the recovery pass, mutations answer 503 NW_RECOVERING
// until it is done, and while the daemon runs it holds the reconcile lock, so a real
// `nodewright-agent apply` (or a second daemon) is NW_LOCKED and changes nothing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadAgentConfig } from '../../../agent/config.js';
import { runDaemon, type Daemon } from '../../../agent/daemon.js';
import { LOCK_FILE } from '../../../agent/lock.js';
import { createLogger } from '../../../agent/log.js';
import type { Notifier } from '../../../systemd/notify.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, desiredKeyringOnly, requireBuild, runCli, sandbox, waitUntil, type Sandbox } from './fixture.js';

let sb: Sandbox;
const notes: string[] = [];
const phases: string[] = [];
let releaseRecovery: () => void = () => {};
const recoveryHeld = new Promise<void>((r) => (releaseRecovery = r));
let started: Promise<Daemon>;
const exitCodes: number[] = [];

const notifier: Notifier = {
  enabled: true,
  watchdogIntervalMs: null,
  ready: async (s) => void notes.push(`READY=1 STATUS=${s}`),
  status: async (s) => void notes.push(`STATUS=${s}`),
  watchdog: async () => undefined,
  stopping: async () => void notes.push('STOPPING=1'),
};
const url = (p: string) => `http://127.0.0.1:${sb.port}${p}`;
const post = (p: string, body: unknown, token: string | null = sb.token) =>
  fetch(url(p), { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
const keyring = () => sb.real('/etc/ceph/ceph.client.k8s.keyring');
const stateFile = () => sb.real('/var/lib/nodewright/state.json');
const readState = () => (existsSync(stateFile()) ? readFileSync(stateFile(), 'utf8') : null);

beforeAll(async () => {
  requireBuild();
  sb = await sandbox('kubelet:\n  restartTimeoutSec: 3600\n  healthTimeoutSec: 3600\n');
  // A previous run died right after staging a kubelet binary: the recovery pass has work to do.
  mkdirSync(sb.real('/var/lib/nodewright'), { recursive: true });
  mkdirSync(sb.real('/usr/local/bin'), { recursive: true });
  writeFileSync(sb.real('/usr/local/bin/.kubelet.nw-staged'), 'half a kubelet');
  const since = new Date().toISOString();
  const next = { version: 'v2', sha256: 'a'.repeat(64) };
  const inflight = { step: 'artifact', phase: 'staged', target: '/usr/local/bin/kubelet', staged: '/usr/local/bin/.kubelet.nw-staged', unit: 'kubelet.service', next, previous: null, since };
  writeFileSync(stateFile(), JSON.stringify({ schema: 1, bundle: null, acceptedAt: null, inflight, kubelet: { current: null, lastGood: null, rejected: {} }, steps: {}, probes: [], rollbacks: 0, reconciles: 0 }), { mode: 0o600 });
  const config = await loadAgentConfig(sb.config, 'w1');
  started = runDaemon(config, createLogger('silent'), {
    notifier,
    exit: (code) => void exitCodes.push(code),
    onStartupPhase: async (p) => {
      phases.push(p);
      if (p === 'recovering') await recoveryHeld; // a recovery pass that has not finished yet
    },
  });
  started.catch(() => undefined);
  await waitUntil('the recovery phase', () => phases.includes('recovering'));
}, 60_000);
afterAll(async () => {
  releaseRecovery();
  await (await started.catch(() => null))?.stop('test end');
  sb?.cleanup();
});

describe('recovery pass vs the API, and the reconcile lock', () => {
  test('READY=1 is sent before the recovery pass; mutations get 503 NW_RECOVERING (after auth), reads answer', async () => {
    expect(phases).toEqual(['listening', 'ready', 'recovering']);
    expect(notes[0]).toMatch(/^READY=1 STATUS=recovering the in-flight binary change \(up to 14634 s\)$/);
    expect(existsSync(sb.real('/usr/local/bin/.kubelet.nw-staged'))).toBe(true); // not yet recovered
    const before = readState();
    const r = await post('/v1/desired', sb.sign(desiredKeyringOnly(1)));
    expect([r.status, (await r.json()).code]).toEqual([503, 'NW_RECOVERING']);
    const rr = await post('/v1/reconcile', {});
    expect([rr.status, (await rr.json()).code]).toEqual([503, 'NW_RECOVERING']);
    expect((await post('/v1/desired', sb.sign(desiredKeyringOnly(1)), null)).status).toBe(401);
    const ready = await fetch(url('/readyz'));
    expect([ready.status, (await ready.json()).code]).toEqual([503, 'NW_RECOVERING']);
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect((await fetch(url('/v1/status'))).status).toBe(200);
    expect(readState()).toBe(before);
    expect(existsSync(keyring())).toBe(false);
  });

  test('while the daemon runs, `nodewright-agent apply` and a second `run` are NW_LOCKED and change nothing', () => {
    const bundle = path.join(tempDir('nw-lock-it-'), 'b.json');
    writeFileSync(bundle, JSON.stringify(sb.sign(desiredKeyringOnly(1))));
    const apply = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', bundle]);
    expect([apply.code, apply.stderr]).toEqual([2, expect.stringMatching(new RegExp(`^NW_LOCKED: nodewright-agent apply: another nodewright-agent \\(pid ${process.pid}\\)`))]);
    const run = runCli(AGENT_CLI, ['run', '--config', sb.config]);
    expect([run.code, run.stderr]).toEqual([2, expect.stringMatching(/NW_LOCKED: nodewright-agent run: /)]);
    expect(existsSync(keyring())).toBe(false);
  });

  test('once the recovery pass is done, the same push is accepted and converges; stop releases the lock', async () => {
    releaseRecovery();
    const daemon = await started;
    expect(phases).toEqual(['listening', 'ready', 'recovering', 'recovered']);
    expect(existsSync(sb.real('/usr/local/bin/.kubelet.nw-staged'))).toBe(false);
    expect(notes[1]).toMatch(/^STATUS=recovery: discarded-stage; /);
    const r = await post('/v1/desired?wait=1', sb.sign(desiredKeyringOnly(1)));
    expect(r.status).toBe(200);
    expect((await r.json()).status.converged).toBe(true);
    expect(readFileSync(keyring(), 'utf8')).toContain('[client.k8s]');
    const lockFile = sb.real(`/var/lib/nodewright/${LOCK_FILE}`);
    expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    await daemon.stop('test');
    expect(exitCodes).toEqual([0]);
    expect(existsSync(lockFile)).toBe(false);
    const bundle = path.join(tempDir('nw-lock-it-'), 'b2.json');
    writeFileSync(bundle, JSON.stringify(sb.sign(desiredKeyringOnly(2))));
    const apply = runCli(AGENT_CLI, ['apply', '--config', sb.config, '--bundle', bundle]);
    expect([apply.code, apply.stderr]).toEqual([0, expect.stringContaining('"converged":true')]);
  });
});
