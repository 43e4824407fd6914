// The kubelet artifact step and the recovery pass on a sandbox root, with real files, a real
// HTTP download and a real healthz server; only systemctl is replaced (a recorder whose
// "kubelet" is healthy unless the installed binary says BROKEN).
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHost, type Host } from '../../../host/index.js';
import type { Exec } from '../../../host/exec.js';
import { parseAgentConfig } from '../../../agent/config.js';
import { StateStore } from '../../../agent/state.js';
import { reconcileOnce } from '../../../agent/reconcile.js';
import { recover } from '../../../agent/recovery.js';
import { stagedPath } from '../../../agent/kubelet-binary.js';
import type { StepContext } from '../../../agent/steps/types.js';
import type { DesiredState } from '../../../protocol/desired.js';
import { freePort } from './fixture.js';

const TARGET = '/usr/local/bin/kubelet';
const bin = (v: string, broken = false) => Buffer.from(`#!/bin/sh\n# kubelet stand-in ${v}${broken ? ' BROKEN' : ''}\n`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const builds = { v1: bin('v1'), v2: bin('v2'), v3: bin('v3', true) };

let dir: string;
let host: Host;
let server: http.Server;
let base = '';
const calls: string[] = [];

const ctx = (healthPort: number, extra = ''): StepContext => {
  const config = parseAgentConfig(`root: ${dir}/root\nkubelet:\n  healthUrl: http://127.0.0.1:${healthPort}/healthz\n  healthTimeoutSec: 1\n${extra}`, 'test.yaml');
  return { host, config, state: new StateStore(host), log: pino({ level: 'silent' }), publicKey: null };
};
const desired = (v: keyof typeof builds, generation = 1, override: Partial<{ sha256: string; size: number }> = {}): DesiredState => ({
  schema: 1,
  generation,
  kubelet: { kind: 'binary', version: v, sha256: sha(builds[v]), size: builds[v].length, url: `${base}/kubelet-${v}`, ...override },
});
const installed = () => readFileSync(path.join(dir, 'root', TARGET), 'utf8');

let healthPort = 0;
beforeAll(async () => {
  dir = mkdtempSync('/tmp/nw-artifact-it-');
  mkdirSync(path.join(dir, 'root/usr/local/bin'), { recursive: true });
  writeFileSync(path.join(dir, 'root', TARGET), builds.v1, { mode: 0o755 });
  // systemctl recorder: everything succeeds; is-active says active.
  const exec: Exec = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    return { command: file, exitCode: 0, stdout: args[0] === 'is-active' ? 'active\n' : '', stderr: '', durationMs: 0 };
  };
  host = createHost({ root: path.join(dir, 'root'), exec });
  healthPort = await freePort();
  server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const ok = !readFileSync(path.join(dir, 'root', TARGET), 'utf8').includes('BROKEN');
      return res.writeHead(ok ? 200 : 500).end();
    }
    const v = (req.url ?? '').replace('/kubelet-', '') as keyof typeof builds;
    if (!builds[v]) return res.writeHead(404).end();
    res.writeHead(200).end(builds[v]);
  });
  await new Promise<void>((r) => server.listen(healthPort, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${healthPort}`;
});
afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubelet binary swap on a sandbox root', () => {
  test('v1 → v2 over HTTP: staged, previous kept, atomic rename, restart, health gate', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    const r = await reconcileOnce(c, desired('v2'), 'test');
    const art = r.steps.find((s) => s.name === 'artifact')!;
    expect(art.state, art.message).toBe('changed');
    expect(installed()).toContain('v2');
    expect(readFileSync(path.join(dir, 'root', `${TARGET}.nw-previous`), 'utf8')).toContain('v1');
    expect(existsSync(path.join(dir, 'root', stagedPath(TARGET)))).toBe(false);
    expect(calls).toContain('systemctl restart kubelet.service');
    expect(c.state.get().kubelet.lastGood?.version).toBe('v2');
    expect((await reconcileOnce(c, desired('v2'), 'again')).steps.find((s) => s.name === 'artifact')!.state).toBe('converged');
  });

  test('a sha256 or size that does not match the signed bundle is refused; the running binary is untouched', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    const bad = await reconcileOnce(c, desired('v3', 2, { sha256: 'f'.repeat(64) }), 'test');
    const art = bad.steps.find((s) => s.name === 'artifact')!;
    expect(art.state).toBe('failed');
    expect(art.error?.code).toBe('NW_CHECKSUM');
    const big = await reconcileOnce(c, desired('v3', 2, { size: 5 }), 'test');
    expect(big.steps.find((s) => s.name === 'artifact')!.error?.message).toMatch(/larger than 5 bytes/);
    expect(installed()).toContain('v2');
    expect(existsSync(path.join(dir, 'root', stagedPath(TARGET)))).toBe(false);
  });

  test('broken v3 → automatic rollback to v2, reported with the reason, not retried', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    const r = await reconcileOnce(c, desired('v3', 3), 'test');
    const art = r.steps.find((s) => s.name === 'artifact')!;
    expect(art.state).toBe('rolled_back');
    expect(art.error?.code).toBe('NW_HEALTH');
    expect(art.message).toMatch(/not healthy within 1 s: kubelet.service active but healthz 500 — rolled back kubelet v3 → v2, which is healthy again/);
    expect(installed()).toContain('v2');
    expect(c.state.get().rollbacks).toBe(1);
    const again = await reconcileOnce(c, desired('v3', 3), 'schedule');
    expect(again.steps.find((s) => s.name === 'artifact')!.state).toBe('rolled_back');
    expect(installed()).toContain('v2');
    // Drift while v3 is rejected: the last good v2 comes back from the cache.
    writeFileSync(path.join(dir, 'root', TARGET), 'garbage');
    const repaired = await reconcileOnce(c, desired('v3', 3), 'drift');
    expect(repaired.steps.find((s) => s.name === 'artifact')!.state).toBe('changed');
    expect(installed()).toContain('v2');
  });

  test('recovery: a staged but not swapped binary is discarded; a swapped but unverified one is finished', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    const staged = stagedPath(TARGET);
    writeFileSync(path.join(dir, 'root', staged), builds.v1);
    const v2 = { version: 'v2', sha256: sha(builds.v2) };
    const v1 = { version: 'v1', sha256: sha(builds.v1) };
    const since = new Date().toISOString();
    await c.state.update((s) => {
      s.inflight = { step: 'artifact', phase: 'staged', target: TARGET, staged, unit: 'kubelet.service', next: v1, previous: v2, since };
    });
    expect((await recover(c)).action).toBe('discarded-stage');
    expect(existsSync(path.join(dir, 'root', staged))).toBe(false);
    expect(installed()).toContain('v2');
    expect(c.state.get().inflight).toBeNull();

    // Died right after the rename (phase still "staged" on disk): the target already is v1 → finish it.
    writeFileSync(path.join(dir, 'root', TARGET), builds.v1, { mode: 0o755 });
    await c.state.update((s) => {
      s.inflight = { step: 'artifact', phase: 'staged', target: TARGET, staged, unit: 'kubelet.service', next: v1, previous: v2, since };
    });
    const fin = await recover(c);
    expect(fin.action).toBe('finished');
    expect(c.state.get().kubelet.current).toEqual(v1);
    expect(c.state.get().inflight).toBeNull();
  });

  test('recovery: a swapped binary that is not healthy is rolled back', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    writeFileSync(path.join(dir, 'root', TARGET), builds.v3, { mode: 0o755 });
    const v3 = { version: 'v3', sha256: sha(builds.v3) };
    const v2 = { version: 'v2', sha256: sha(builds.v2) };
    await c.state.update((s) => {
      s.inflight = { step: 'artifact', phase: 'swapped', target: TARGET, staged: stagedPath(TARGET), unit: 'kubelet.service', next: v3, previous: v2, since: '' };
    });
    const r = await recover(c);
    expect(r.action).toBe('rolled-back');
    expect(r.message).toMatch(/kubelet v3 not healthy after restart .* rolled back kubelet v3 → v2/);
    expect(installed()).toContain('v2');
  });

  test('recovery: killed during a rollback, after the previous binary was put back — the rollback is finished, not the bad swap (found by bench R1)', async () => {
    const c = ctx(healthPort);
    await c.state.load();
    writeFileSync(path.join(dir, 'root', TARGET), builds.v2, { mode: 0o755 }); // the rollback's install from cache happened
    const v3 = { version: 'v3', sha256: sha(builds.v3) };
    const v2 = { version: 'v2', sha256: sha(builds.v2) };
    await c.state.update((s) => {
      s.kubelet.current = v2;
      s.kubelet.lastGood = v2;
      delete s.kubelet.rejected[v3.sha256];
      s.inflight = { step: 'artifact', phase: 'swapped', target: TARGET, staged: stagedPath(TARGET), unit: 'kubelet.service', next: v3, previous: v2, since: '' };
    });
    const r = await recover(c);
    expect(r.action).toBe('rolled-back');
    expect(r.message).toMatch(/finished the interrupted rollback of kubelet v3: rolled back kubelet v3 → v2, which is healthy again/);
    expect(installed()).toContain('v2');
    const k = c.state.get().kubelet;
    expect(k.current).toEqual(v2);
    expect(k.lastGood).toEqual(v2); // not the broken v3
    expect(k.rejected[v3.sha256]?.reason).toMatch(/stopped while rolling back/);
    expect(c.state.get().inflight).toBeNull();
  });
});
