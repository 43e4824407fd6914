// Artifact download over https with the agent's TLS material (client cert + fleet CA, made with
// the system openssl): the server must be the controller (role), not any fleet certificate; URL
// redaction, and staging files that are never reused or followed.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchToFile, loadTlsMaterial, redactUrl } from '../../../agent/fetch-artifact.js';
import { isNwError } from '../../../host/errors.js';

let dir: string;
let server: https.Server;
let base = '';
const peers: string[] = [];
const body = Buffer.from('#!/bin/sh\n# kubelet over https\n'.repeat(1000));
const sha = createHash('sha256').update(body).digest('hex');

function openssl(script: string) {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/nw-fetch-tls-');
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  openssl(`
    openssl req -x509 ${ec} -keyout ca.key -out ca.crt -subj /CN=fleet-ca -days 1 2>/dev/null
    openssl req ${ec} -keyout server.key -out server.csr -subj /CN=controller/O=nodewright:controller 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext 2>/dev/null
    openssl req ${ec} -keyout worker.key -out worker.csr -subj /CN=worker-9/O=nodewright:agent 2>/dev/null
    openssl x509 -req -in worker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out worker.crt -days 1 -extfile server.ext 2>/dev/null
    openssl req ${ec} -keyout agent.key -out agent.csr -subj /CN=worker-1 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\\n' > agent.ext
    openssl x509 -req -in agent.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out agent.crt -days 1 -extfile agent.ext 2>/dev/null
    chmod 600 agent.key`);
  const f = (n: string) => readFileSync(path.join(dir, n));
  server = https.createServer({ key: f('server.key'), cert: f('server.crt'), ca: f('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    peers.push((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
    if (req.url?.startsWith('/kubelet')) return res.writeHead(200).end(body);
    if (req.url?.startsWith('/moved')) return res.writeHead(302, { location: '/kubelet' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tlsFiles = () => ({ cert: path.join(dir, 'agent.crt'), key: path.join(dir, 'agent.key'), ca: path.join(dir, 'ca.crt') });
const opts = async (tls: ReturnType<typeof tlsFiles> | null) => ({ maxBytes: 1 << 20, mode: 0o755, resolveLocal: async (p: string) => p, tls: await loadTlsMaterial(tls), timeoutMs: 10_000 });
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e) => (isNwError(e) ? `${e.code}: ${e.message}` : String(e)));

describe('artifact download over https with the agent TLS material', () => {
  test('presents the agent certificate, trusts the fleet CA, follows a redirect; bytes and sha256 match', async () => {
    const dest = path.join(dir, 'staged-1');
    const got = await fetchToFile(`${base}/moved`, dest, await opts(tlsFiles()));
    expect(got).toEqual({ sha256: sha, size: body.length });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(peers.at(-1)).toBe('worker-1');
  });

  test('without the TLS material the fleet-CA server is not trusted: NW_DOWNLOAD, no staging file left', async () => {
    const dest = path.join(dir, 'staged-2');
    expect(await codeOf(fetchToFile(`${base}/kubelet`, dest, await opts(null)))).toMatch(/^NW_DOWNLOAD: cannot download https:\/\/127.0.0.1:\d+\/kubelet: /);
    expect(existsSync(dest)).toBe(false);
  });

  test('the query string (a signed token) never reaches error messages', async () => {
    const msg = await codeOf(fetchToFile(`${base}/missing?X-Amz-Signature=SECRET123`, path.join(dir, 'staged-3'), await opts(tlsFiles())));
    expect(msg).toMatch(/^NW_DOWNLOAD: download of https:\/\/127.0.0.1:\d+\/missing\?<redacted> answered HTTP 404/);
    expect(msg).not.toContain('SECRET123');
    expect(redactUrl('https://a/b?t=1#x')).toBe('https://a/b?<redacted>');
    expect(redactUrl('file:///lab/kubelet')).toBe('file:///lab/kubelet');
  });

  test('a staging path that exists (file or symlink) is refused, never written through', async () => {
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'keep me');
    const link = path.join(dir, 'staged-link');
    symlinkSync(victim, link);
    expect(await codeOf(fetchToFile(`${base}/kubelet`, link, await opts(tlsFiles())))).toMatch(/^NW_FS: cannot create the staging file .* \(EEXIST\)/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  test('a server with a fleet certificate of another role (a worker) is refused: NW_TLS, nothing staged', async () => {
    const f = (n: string) => readFileSync(path.join(dir, n));
    const worker = https.createServer({ key: f('worker.key'), cert: f('worker.crt') }, (_req, res) => res.end(body));
    await new Promise<void>((r) => worker.listen(0, '127.0.0.1', () => r()));
    try {
      const dest = path.join(dir, 'staged-4');
      const url = `https://127.0.0.1:${(worker.address() as { port: number }).port}/kubelet`;
      expect(await codeOf(fetchToFile(url, dest, await opts(tlsFiles())))).toMatch(/^NW_TLS: the server at 127.0.0.1 presents a certificate of agent worker-9, not of the controller/);
      expect(existsSync(dest)).toBe(false);
    } finally {
      await new Promise<void>((r) => worker.close(() => r()));
    }
  });

  test('unreadable TLS material is a coded error naming the key to fix', async () => {
    expect(await codeOf(loadTlsMaterial({ ...tlsFiles(), key: path.join(dir, 'nope.key') }))).toMatch(/^NW_TLS: cannot read the agent's TLS key .*nope.key \(ENOENT\): fix tls.key/);
  });
});
