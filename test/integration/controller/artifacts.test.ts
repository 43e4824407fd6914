// Artifacts through the real controller: `artifact add` streams a kubelet binary to the store, a
// rollout names it by version and the bundle the controller pushes carries its sha256, size, url
// and signature; the agent's own downloader (agent/fetch-artifact.ts, its joined certificate and
// the fleet CA) fetches that url over mutual TLS and the bytes and signature check out. An unknown
// version is refused with a coded error naming `artifact add`.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToFile, loadTlsMaterial } from '../../../agent/fetch-artifact.js';
import { freePort } from '../../../lab/ports.js';
import { loadPublicKey, verifyArtifactSignature, verifyBundle } from '../../../protocol/bundle.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, CONTROLLER_CLI, KEYRING, requireBuild, waitUntil } from '../agent/fixture.js';

const PATH = process.env.PATH ?? '/usr/bin:/bin';
const run = (cli: string, args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const runAsync = (cli: string, args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH, ...env } }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );

describe('artifacts: add, resolve in a rollout, download over mutual TLS', () => {
  let dir: string;
  let port: number;
  let agentPort: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  const env = () => ({ NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') });
  const bin = Buffer.from('#!/bin/sh\n# kubelet stand-in v2\n'.padEnd(300_000, '#'));
  const sha = createHash('sha256').update(bin).digest('hex');

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-artifacts-it-');
    port = await freePort();
    agentPort = await freePort();
    expect(run(CONTROLLER_CLI, ['init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`]).code).toBe(0);
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(dir, 'ctl', 'controller.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH } });
    controller.stderr!.on('data', (c) => (logs += c));
    const ca = readFileSync(path.join(dir, 'ctl', 'ca.crt'));
    await waitUntil('controller ready', () => new Promise((r) => https.get(`https://127.0.0.1:${port}/readyz`, { ca, agent: false }, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false))), 15_000, () => logs);
    const t = JSON.parse(run(CONTROLLER_CLI, ['nodes', 'join-token', '--group', 'lab', '--json'], env()).stdout);
    const j = run(AGENT_CLI, ['join', '--controller', `https://127.0.0.1:${port}`, '--token', t.token, '--ca-cert-hash', t.caCertHash, '--config-out', path.join(dir, 'w1', 'agent.yaml'), '--listen', `127.0.0.1:${agentPort}`, '--name', 'w1']);
    expect(j.stderr).toBe('');
  }, 60_000);
  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null) {
      process.kill(controller.pid, 'SIGTERM');
      await new Promise((r) => controller!.once('exit', r));
    }
  });

  it('artifact add streams the file into the store; ls lists it; the same version with other content is refused', () => {
    writeFileSync(path.join(dir, 'kubelet-v2'), bin);
    const r = run(CONTROLLER_CLI, ['artifact', 'add', path.join(dir, 'kubelet-v2'), '--kind', 'kubelet-binary', '--version', 'v2', '--json'], env());
    expect(r.stderr).toBe('');
    const rec = JSON.parse(r.stdout);
    expect(rec).toMatchObject({ kind: 'kubelet-binary', version: 'v2', sha256: sha, size: bin.length });
    expect(readFileSync(path.join(dir, 'ctl', 'state', 'artifacts', 'sha256', sha)).equals(bin)).toBe(true);
    expect(verifyArtifactSignature({ sha256: sha, size: bin.length }, rec.signature, loadPublicKey(readFileSync(path.join(dir, 'ctl', 'signing.pub'), 'utf8')))).toBe(true);
    expect(JSON.parse(run(CONTROLLER_CLI, ['artifact', 'ls', '--json'], env()).stdout)).toEqual([rec]);
    writeFileSync(path.join(dir, 'other'), 'not the same bytes');
    const clash = run(CONTROLLER_CLI, ['artifact', 'add', path.join(dir, 'other'), '--kind', 'kubelet-binary', '--version', 'v2'], env());
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/^NW_EXISTS: .*new version/);
    expect(JSON.parse(run(CONTROLLER_CLI, ['artifact', 'ls', '--json'], env()).stdout)).toEqual([rec]);
  });

  it('an unknown version is refused with NW_NOT_FOUND naming `artifact add`, and no rollout starts', () => {
    writeFileSync(path.join(dir, 'keyring'), KEYRING);
    writeFileSync(path.join(dir, 'v9.yaml'), 'ceph:\n  keyringFile: keyring\nkubelet: {kind: binary, version: v9}\n');
    const r = run(CONTROLLER_CLI, ['rollout', 'start', '--group', 'lab', '--desired', path.join(dir, 'v9.yaml'), '--json'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_NOT_FOUND: .*no kubelet-binary artifact v9.*nodewright artifact add FILE --kind kubelet-binary --version v9/);
    expect(JSON.parse(run(CONTROLLER_CLI, ['rollout', 'ls', '--json'], env()).stdout)).toEqual([]);
  });

  it('a rollout naming version v2 pushes the resolved artifact; the agent downloads it over mutual TLS', async () => {
    const w = (f: string) => readFileSync(path.join(dir, 'w1', f));
    const pushed: unknown[] = [];
    // the node's face: answers status, records the bundle (the controller pushes with its client certificate)
    const server = https.createServer({ cert: w('agent.crt'), key: w('agent.key'), ca: w('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.method === 'POST') pushed.push(JSON.parse(body));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(req.method === 'POST' ? { accepted: true } : { desired: { generation: 0 }, converged: true, ready: true, steps: [], probes: [], lastError: null }));
      });
    });
    await new Promise<void>((r) => server.listen(agentPort, '127.0.0.1', r));
    try {
      writeFileSync(path.join(dir, 'v2.yaml'), 'kubelet: {kind: binary, version: v2}\n');
      const r = await runAsync(CONTROLLER_CLI, ['rollout', 'start', '--group', 'lab', '--desired', path.join(dir, 'v2.yaml'), '--min-healthy', '1s', '--gate-timeout', '5s', '--json'], env());
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).id).toMatch(/^r-/);
      await waitUntil('the bundle pushed to w1', () => pushed.length > 0, 15_000, () => logs);
      const desired = verifyBundle(pushed[0], loadPublicKey(w('controller.pub').toString()));
      const kubelet = desired.kubelet as { kind: string; version: string; sha256: string; size: number; url: string; signature: string };
      expect(kubelet).toMatchObject({ kind: 'binary', version: 'v2', sha256: sha, size: bin.length, url: `https://127.0.0.1:${port}/v1/artifacts/sha256/${sha}` });
      expect(verifyArtifactSignature(kubelet, kubelet.signature, loadPublicKey(w('controller.pub').toString()))).toBe(true);

      const tls = await loadTlsMaterial({ cert: path.join(dir, 'w1', 'agent.crt'), key: path.join(dir, 'w1', 'agent.key'), ca: path.join(dir, 'w1', 'ca.crt') });
      const dest = path.join(dir, 'w1', 'kubelet.staged');
      const got = await fetchToFile(kubelet.url, dest, { maxBytes: kubelet.size, mode: 0o755, resolveLocal: async (p) => p, tls });
      expect(got).toEqual({ sha256: sha, size: bin.length });
      expect(readFileSync(dest).equals(bin)).toBe(true);
      // without a fleet client certificate the blob is not served
      const status = await new Promise((r) => https.get(kubelet.url, { ca: w('ca.crt'), agent: false }, (res) => { res.resume(); r(res.statusCode); }).on('error', r));
      expect(status).toBe(401);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
