// The kubelet artifact step and the recovery pass on a sandbox root, with real files, a real
// HTTP download and a real healthz server; only systemctl is replaced (a recorder whose
// "kubelet" is healthy unless the installed binary says BROKEN).
import http from 'node:http';
import { createHash, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
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
import type { BinaryArtifact, DesiredState } from '../../../protocol/desired.js';
import { CONTROLLER_CLI, freePort, requireBuild } from './fixture.js';
import { generateSigningKeys, loadPrivateKey, loadPublicKey, signBundle } from '../../../protocol/bundle.js';

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
  const config = parseAgentConfig(`root: ${dir}/root\nkubelet:\n  healthUrl: http://127.0.0.1:${healthPort}/healthz\n  healthTimeoutSec: 1\n  minHealthySec: 0.2\n${extra}`, 'test.yaml');
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
    if (req.url?.startsWith('/healthz')) {
      // ?root= names another sandbox root (the honest-rollback worlds); default: this file's.
      const root = new URL(req.url, 'http://x').searchParams.get('root') ?? path.join(dir, 'root');
      const ok = existsSync(path.join(root, TARGET)) && !readFileSync(path.join(root, TARGET), 'utf8').includes('BROKEN');
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
      s.inflight = { kind: 'binary', phase: 'staged', target: TARGET, staged, unit: 'kubelet.service', artifact: v1, previous: v2, since };
    });
    expect((await recover(c)).action).toBe('discarded-stage');
    expect(existsSync(path.join(dir, 'root', staged))).toBe(false);
    expect(installed()).toContain('v2');
    expect(c.state.get().inflight).toBeNull();

    // Died right after the rename (phase still "staged" on disk): the target already is v1 → finish it.
    writeFileSync(path.join(dir, 'root', TARGET), builds.v1, { mode: 0o755 });
    await c.state.update((s) => {
      s.inflight = { kind: 'binary', phase: 'staged', target: TARGET, staged, unit: 'kubelet.service', artifact: v1, previous: v2, since };
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
      s.inflight = { kind: 'binary', phase: 'swapped', target: TARGET, staged: stagedPath(TARGET), unit: 'kubelet.service', artifact: v3, previous: v2, since: '' };
    });
    const r = await recover(c);
    expect(r.action).toBe('rolled-back');
    expect(r.message).toMatch(/kubelet v3 not healthy after restart .* rolled back kubelet v3 → v2/);
    expect(installed()).toContain('v2');
  });
});

/** A fresh sandbox root whose target holds `current` (or nothing), sharing the HTTP server. */
const world = (current: Buffer | null, publicKey: KeyObject | null = null, extraYaml = '') => {
  const d = mkdtempSync('/tmp/nw-artifact-honest-');
  mkdirSync(path.join(d, 'root/usr/local/bin'), { recursive: true });
  if (current) writeFileSync(path.join(d, 'root', TARGET), current, { mode: 0o755 });
  const exec: Exec = async (file, args) => ({ command: file, exitCode: 0, stdout: args[0] === 'is-active' ? 'active\n' : '', stderr: '', durationMs: 0 });
  const h = createHost({ root: path.join(d, 'root'), exec });
  const config = parseAgentConfig(`root: ${d}/root\nkubelet:\n  healthUrl: http://127.0.0.1:${healthPort}/healthz?root=${encodeURIComponent(`${d}/root`)}\n  healthTimeoutSec: 1\n  minHealthySec: 0.2\n${extraYaml}`, 'test.yaml');
  const c: StepContext = { host: h, config, state: new StateStore(h), log: pino({ level: 'silent' }), publicKey };
  return { c, dir: d, installed: () => readFileSync(path.join(d, 'root', TARGET), 'utf8') };
};
const worlds: string[] = [];
afterAll(() => worlds.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('honest rollback: "rolled_back" only when a healthy previous kubelet is back', () => {
  test('no previous binary: failed, ok=false, the message says nothing was rolled back; held until a new generation', async () => {
    const w = world(null);
    worlds.push(w.dir);
    await w.c.state.load();
    const r = await reconcileOnce(w.c, desired('v3', 7), 'test');
    const art = r.steps.find((s) => s.name === 'artifact')!;
    expect(art.state).toBe('failed');
    expect(r.ok).toBe(false);
    expect(art.message).toContain('no previous kubelet binary to roll back to: v3 stays installed and unhealthy');
    expect(w.c.state.get().rollbacks).toBe(0);
    expect(w.c.state.get().kubelet.rejected[sha(builds.v3)]).toMatchObject({ version: 'v3', generation: 7, rolledBack: false });
    expect(w.c.state.get().kubelet.rejected[sha(builds.v3)].reason).toMatch(/healthz 500/);
    // Same generation: held, still failed (not "rolled_back"), nothing fetched or restarted.
    const held = await reconcileOnce(w.c, desired('v3', 7), 'schedule');
    const heldArt = held.steps.find((s) => s.name === 'artifact')!;
    expect(heldArt.state).toBe('failed');
    expect(heldArt.message).toMatch(/kubelet v3 was rejected at .* and nothing healthy could be put back/);
    expect(held.ok).toBe(false);
    // A new generation retries it (and fails again, truthfully).
    const retried = await reconcileOnce(w.c, desired('v3', 8), 'desired');
    expect(retried.steps.find((s) => s.name === 'artifact')!.message).toMatch(/not healthy within 1 s/);
    expect(w.c.state.get().kubelet.rejected[sha(builds.v3)].generation).toBe(8);
  });

  test('previous binary still unhealthy: rolled back but failed, "still unhealthy" in the message', async () => {
    const w = world(bin('v0', true));
    worlds.push(w.dir);
    await w.c.state.load();
    const r = await reconcileOnce(w.c, desired('v3', 1), 'test');
    const art = r.steps.find((s) => s.name === 'artifact')!;
    expect(art.state).toBe('failed');
    expect(r.ok).toBe(false);
    expect(art.message).toMatch(/rolled back kubelet v3 → unknown, which is still unhealthy \(not healthy within 1 s: kubelet.service active but healthz 500\)/);
    expect(w.installed()).toContain('v0 BROKEN');
    expect(w.c.state.get().rollbacks).toBe(1);
    expect(w.c.state.get().kubelet.rejected[sha(builds.v3)].rolledBack).toBe(false);
  });
});

describe('detached artifact signatures: `nodewright artifact sign` makes exactly what the agent checks', () => {
  test('a CLI-made signature is accepted; a bundle signature or another key is refused (NW_SIGNATURE), the binary untouched', async () => {
    requireBuild();
    const keys = generateSigningKeys();
    const kdir = mkdtempSync('/tmp/nw-artifact-sig-');
    worlds.push(kdir);
    writeFileSync(path.join(kdir, 'k'), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(path.join(kdir, 'kubelet-v2'), builds.v2);
    const r = spawnSync('node', [CONTROLLER_CLI, 'artifact', 'sign', '--key', path.join(kdir, 'k'), '--out', path.join(kdir, 'sig'), path.join(kdir, 'kubelet-v2')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`sha256=${sha(builds.v2)} size=${builds.v2.length}`);
    const signature = readFileSync(path.join(kdir, 'sig'), 'utf8').trim();
    const pub = loadPublicKey(keys.publicKeyPem);
    const signed = (sig: string, generation: number): DesiredState => {
      const d = desired('v2', generation);
      return { ...d, kubelet: { ...(d.kubelet as BinaryArtifact), signature: sig } };
    };
    // A bundle signature (same key) in the artifact's signature field is refused.
    const bundleSig = signBundle(desired('v2', 1), loadPrivateKey(keys.privateKeyPem)).signature.value;
    const w = world(builds.v1, pub);
    worlds.push(w.dir);
    await w.c.state.load();
    const bad = (await reconcileOnce(w.c, signed(bundleSig, 1), 'test')).steps.find((s) => s.name === 'artifact')!;
    expect(bad.error?.code).toBe('NW_SIGNATURE');
    expect(w.installed()).toContain('v1');
    const other = world(builds.v1, loadPublicKey(generateSigningKeys().publicKeyPem));
    worlds.push(other.dir);
    await other.c.state.load();
    expect((await reconcileOnce(other.c, signed(signature, 1), 'test')).steps.find((s) => s.name === 'artifact')!.error?.code).toBe('NW_SIGNATURE');
    expect(other.installed()).toContain('v1');
    const ok = (await reconcileOnce(w.c, signed(signature, 2), 'test')).steps.find((s) => s.name === 'artifact')!;
    expect(ok.state, ok.message).toBe('changed');
    expect(w.installed()).toContain('v2');
  });
});

describe('artifact cache pruning', () => {
  const cached = (d: string) => readdirSync(path.join(d, 'root/var/lib/nodewright/artifacts')).sort();
  test('keeps current + last good + limits.artifactCacheKeep others (default 2)', async () => {
    const keep0 = world(builds.v1, null, 'limits:\n  artifactCacheKeep: 0\n');
    const keep2 = world(builds.v1);
    worlds.push(keep0.dir, keep2.dir);
    for (const w of [keep0, keep2]) {
      await w.c.state.load();
      expect((await reconcileOnce(w.c, desired('v2', 1), 'test')).steps.find((s) => s.name === 'artifact')!.state).toBe('changed');
    }
    expect(cached(keep0.dir)).toEqual([sha(builds.v2)]);
    expect(cached(keep2.dir)).toEqual([sha(builds.v1), sha(builds.v2)].sort());
    // The previous binary is still kept next to the target for an operator.
    expect(readFileSync(path.join(keep0.dir, 'root', `${TARGET}.nw-previous`), 'utf8')).toContain('v1');
  });
});
