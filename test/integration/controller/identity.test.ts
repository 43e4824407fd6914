// Identities through real processes: a real controller (`init`, `controller run`, agent certificates
// of 60 s so renewals happen within the test), `nodewright-agent join` and a real agent daemon.
// Covered: the join token is checked before any CSR work; two joins of one name at once, exactly one
// wins; the token from a file or the environment; a worker's certificate served by an impostor is
// refused by the operator CLI, by join and by the agent's downloader (the controller role, not only
// the CA); the controller pins each agent's certificate (remove revokes it, a re-enrolled node's old
// certificate is refused); renewal over mutual TLS; a running agent renews and swaps its TLS
// context without a restart while the controller keeps polling it; `certs renew` + SIGHUP swaps the
// controller's own certificate without a restart (a broken one is refused, the old one kept).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToFile, loadTlsMaterial } from '../../../agent/fetch-artifact.js';
import { isNwError } from '../../../host/errors.js';
import { createKeyAndCsr, identityOf } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { AGENT_CLI, CONTROLLER_CLI, freePort, requireBuild, waitUntil } from '../agent/fixture.js';
import { call, PATH, run, stopChildren, type Run } from './fixture.js';

const runAsync = (cli: string, args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) =>
    execFile('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

/** The certificate a TLS server presents now (its sha256, lower-case hex). */
function servedSha(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

const shaOf = (pem: string | Buffer) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

describe('identities: controller role, pinning, one enrolment per name, renewal', () => {
  let dir: string;
  let port: number;
  let base: string;
  let controller: ChildProcess | null = null;
  let agent: ChildProcess | null = null;
  let logs = '';
  let agentLogs = '';
  const env = () => ({ NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') });
  const nodewright = (...args: string[]) => run(CONTROLLER_CLI, args, env());
  const ca = () => readFileSync(path.join(dir, 'ctl', 'ca.crt'), 'utf8');
  const creds = (sub: string) => ({ ca: ca(), cert: readFileSync(path.join(dir, sub, 'agent.crt')), key: readFileSync(path.join(dir, sub, 'agent.key')) });
  const operator = () => ({ ca: ca(), cert: readFileSync(path.join(dir, 'ctl', 'operator.crt')), key: readFileSync(path.join(dir, 'ctl', 'operator.key')) });
  const newToken = () => JSON.parse(nodewright('nodes', 'join-token', '--group', 'lab', '--json').stdout) as { token: string; caCertHash: string };
  const joinArgs = (sub: string, name: string, hash: string, url = base, listenPort = 1) =>
    ['join', '--controller', url, '--ca-cert-hash', hash, '--config-out', path.join(dir, sub, 'agent.yaml'), '--listen', `127.0.0.1:${listenPort}`, '--name', name];
  // an artifact that does not exist: 404 once the caller is let through, 401/403 when it is not
  const artifactUrl = () => `${base}/v1/artifacts/sha256/${'0'.repeat(64)}`;

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-identity-it-');
    port = await freePort();
    base = `https://127.0.0.1:${port}`;
    expect(run(CONTROLLER_CLI, ['init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`]).code).toBe(0);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('intervalSec: 10', 'intervalSec: 0.5') + 'join:\n  certValidSeconds: 60\nserver:\n  joinBurst: 50\n  renewPerHour: 6\n');
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH } });
    controller.stderr!.on('data', (c) => (logs += c));
    await waitUntil('controller ready', async () => (await call(`${base}/readyz`, { ca: ca() }).catch(() => ({ status: 0 }))).status === 200, 15_000, () => logs);
  }, 60_000);
  afterAll(() => stopChildren(agent, controller));

  it('checks the join token before any CSR work: an unknown token with a broken CSR is NW_TOKEN', async () => {
    const body = (token: string) => JSON.stringify({ token, name: 'x1', csr: 'not a CSR', listen: '127.0.0.1:1', facts: { hostname: 'x1', addresses: [] } });
    const unknown = await call(`${base}/v1/join`, { ca: ca(), body: body('abcdef.0123456789abcdef') });
    expect(unknown.status).toBe(401);
    expect(unknown.json.code).toBe('NW_TOKEN');
    // a valid token with a broken CSR: NW_PKI, and the token is not spent
    const t = newToken();
    expect((await call(`${base}/v1/join`, { ca: ca(), body: body(t.token) })).json.code).toBe('NW_PKI');
    const j = run(AGENT_CLI, joinArgs('w1', 'w1', t.caCertHash), { NODEWRIGHT_JOIN_TOKEN: t.token });
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    expect(readFileSync(path.join(dir, 'w1', 'agent.yaml'), 'utf8')).toContain(`controller: "${base}"`);
  });

  it('two joins of one name at once: exactly one enrols, the other is NW_EXISTS and its token stays unused', async () => {
    const [a, b] = [newToken(), newToken()];
    const writeToken = (f: string, t: string) => (writeFileSync(path.join(dir, f), t + '\n', { mode: 0o600 }), path.join(dir, f));
    const results = await Promise.all([
      runAsync(AGENT_CLI, [...joinArgs('race-a', 'race', a.caCertHash), '--token-file', writeToken('token-a', a.token)]),
      runAsync(AGENT_CLI, [...joinArgs('race-b', 'race', b.caCertHash), '--token-file', writeToken('token-b', b.token)]),
    ]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    const loser = results.findIndex((r) => r.code !== 0);
    expect(results[loser].stderr).toMatch(/^NW_EXISTS: .*race is already enrolled/);
    expect(existsSync(path.join(dir, loser === 0 ? 'race-a' : 'race-b'))).toBe(false);
    const nodes = JSON.parse(nodewright('nodes', 'ls', '--json').stdout) as { name: string }[];
    expect(nodes.filter((n) => n.name === 'race')).toHaveLength(1);
    // the losing token was not spent: it enrols another name
    const again = run(AGENT_CLI, [...joinArgs('race-c', 'race-c', a.caCertHash), '--token', (loser === 0 ? a : b).token]);
    expect(again.stderr).toBe('');
    const enrolled = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'node.enrolled' && e.subject === 'race');
    expect(enrolled).toHaveLength(1);
  });

  it('a worker certificate served by an impostor is refused by the operator CLI, join and the agent downloader', async () => {
    // w1's own certificate names 127.0.0.1 (the address it is reached at) and chains to the fleet CA
    const w1 = creds('w1');
    expect(new X509Certificate(w1.cert).subjectAltName).toContain('IP Address:127.0.0.1');
    const impostor = https.createServer({ cert: Buffer.concat([w1.cert, Buffer.from(ca())]), key: w1.key }, (_req, res) => res.end('{"nodes":[]}'));
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const evil = `https://127.0.0.1:${(impostor.address() as { port: number }).port}`;
    try {
      const opYaml = path.join(dir, 'ctl', 'impostor-operator.yaml');
      writeFileSync(opYaml, readFileSync(path.join(dir, 'ctl', 'operator.yaml'), 'utf8').replace(base, evil));
      // async: the impostor lives in this process and must answer while the CLI runs
      const ls = await runAsync(CONTROLLER_CLI, ['nodes', 'ls', '--json', '--operator-config', opYaml]);
      expect(ls.code).toBe(2);
      expect(ls.stderr).toMatch(/^NW_TLS: .*certificate of agent w1, not of the controller/);
      // join: the CA pin matches (the impostor sends the fleet CA), the role does not
      const t = newToken();
      const j = await runAsync(AGENT_CLI, [...joinArgs('wx', 'wx', t.caCertHash, evil), '--token', t.token]);
      expect(j.stderr).toMatch(/^NW_TLS: .*not of the controller/);
      expect(existsSync(path.join(dir, 'wx'))).toBe(false);
      const tlsFiles = { cert: path.join(dir, 'w1', 'agent.crt'), key: path.join(dir, 'w1', 'agent.key'), ca: path.join(dir, 'w1', 'ca.crt') };
      const got = await fetchToFile(`${evil}/v1/artifacts/sha256/${'0'.repeat(64)}`, path.join(dir, 'staged'), { maxBytes: 1 << 20, mode: 0o755, resolveLocal: async (p) => p, tls: await loadTlsMaterial(tlsFiles), timeoutMs: 5_000 })
        .then(() => 'fetched', (e) => (isNwError(e) ? `${e.code}: ${e.message}` : String(e)));
      expect(got).toMatch(/^NW_TLS: .*not of the controller/);
    } finally {
      impostor.closeAllConnections();
      await new Promise((r) => impostor.close(r));
    }
  });

  it('the controller pins agent certificates: remove revokes; a re-enrolled node\'s old certificate is refused', async () => {
    const t = newToken();
    expect(run(AGENT_CLI, [...joinArgs('w3', 'w3', t.caCertHash), '--token', t.token]).code).toBe(0);
    const old = creds('w3');
    expect((await call(artifactUrl(), old)).json.code).toBe('NW_NOT_FOUND'); // let through
    expect(nodewright('nodes', 'remove', 'w3').code).toBe(0);
    const revoked = await call(artifactUrl(), old);
    expect(revoked.status).toBe(401);
    expect(revoked.json.message).toMatch(/w3 is not enrolled/);
    const t2 = newToken();
    expect(run(AGENT_CLI, [...joinArgs('w3-again', 'w3', t2.caCertHash), '--token', t2.token]).code).toBe(0);
    const stale = await call(artifactUrl(), old);
    expect(stale.status).toBe(401);
    expect(stale.json).toMatchObject({ code: 'NW_AUTH', message: expect.stringMatching(/not the one the controller pins/) });
    expect((await call(artifactUrl(), creds('w3-again'))).json.code).toBe('NW_NOT_FOUND');
    const renewOld = await call(`${base}/v1/renew`, { ...old, body: JSON.stringify({ csr: (await createKeyAndCsr({ commonName: 'w3' })).csrPem }) });
    expect(renewOld.json.code).toBe('NW_AUTH');
  });

  it('renewal over mutual TLS: same name, role and names; the old certificate is then refused; days left shown', async () => {
    const t = newToken();
    expect(run(AGENT_CLI, [...joinArgs('w4', 'w4', t.caCertHash), '--token', t.token]).code).toBe(0);
    const current = creds('w4');
    const { csrPem } = await createKeyAndCsr({ commonName: 'w4' });
    expect((await call(`${base}/v1/renew`, { ...operator(), body: JSON.stringify({ csr: csrPem }) })).json.code).toBe('NW_FORBIDDEN');
    const r = await call(`${base}/v1/renew`, { ...current, body: JSON.stringify({ csr: csrPem }) });
    expect(r.status).toBe(200);
    const next = new X509Certificate(r.json.cert);
    const prev = new X509Certificate(current.cert);
    expect(identityOf(next)).toEqual({ name: 'w4', role: 'agent' });
    expect(next.subjectAltName).toBe(prev.subjectAltName);
    expect(Date.parse(next.validTo) - Date.now()).toBeLessThan(61_000);
    expect(r.json.notAfter).toBe(new Date(next.validTo).toISOString());
    expect((await call(artifactUrl(), current)).json.code).toBe('NW_AUTH');
    const show = JSON.parse(nodewright('nodes', 'show', 'w4', '--json').stdout);
    expect(show).toMatchObject({ certSha256: shaOf(r.json.cert), certNotAfter: r.json.notAfter, certDaysLeft: 0 });
    expect(nodewright('nodes', 'ls').stdout).toMatch(/CERT-DAYS/);
    const metrics = await call(`${base}/metrics`, operator());
    const expiry = Number(/^nodewright_node_cert_expiry_seconds\{node="w4"\} (-?\d+)$/m.exec(metrics.text)?.[1]);
    expect(expiry).toBeGreaterThan(0);
    expect(expiry).toBeLessThanOrEqual(60);
    const events = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.kind === 'node.cert-renewed').map((e) => e.subject)).toEqual(['w4']);
  });

  it('renewals are rate-limited per node: after a burst of 3 the next is 429 NW_RATE_LIMIT with Retry-After; other nodes and old certificates do not count', async () => {
    for (const name of ['w5', 'w6']) {
      const t = newToken();
      expect(run(AGENT_CLI, [...joinArgs(name, name, t.caCertHash), '--token', t.token]).code).toBe(0);
    }
    let cert = creds('w5');
    for (let i = 0; i < 3; i++) {
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'w5' });
      const r = await call(`${base}/v1/renew`, { ...cert, body: JSON.stringify({ csr: csrPem }) });
      expect(r.status).toBe(200);
      cert = { ...cert, cert: Buffer.from(r.json.cert), key: Buffer.from(keyPem) };
    }
    const { csrPem } = await createKeyAndCsr({ commonName: 'w5' });
    const limited = await call(`${base}/v1/renew`, { ...cert, body: JSON.stringify({ csr: csrPem }) });
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe('NW_RATE_LIMIT');
    expect(limited.json.message).toMatch(/certificate renewals of node w5; wait \d+ s/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(500);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(600);
    // w6: its own bucket; its superseded certificate is refused without using up w6's renewals
    let w6 = creds('w6');
    for (let i = 0; i < 3; i++) {
      const next = await createKeyAndCsr({ commonName: 'w6' });
      const other = await call(`${base}/v1/renew`, { ...w6, body: JSON.stringify({ csr: next.csrPem }) });
      expect(other.status).toBe(200);
      w6 = { ...w6, cert: Buffer.from(other.json.cert), key: Buffer.from(next.keyPem) };
      if (i === 0) for (let j = 0; j < 4; j++) expect((await call(`${base}/v1/renew`, { ...creds('w6'), body: '{}' })).json.code).toBe('NW_AUTH');
    }
    const show = JSON.parse(nodewright('nodes', 'show', 'w5', '--json').stdout);
    expect(show.certSha256).toBe(shaOf(cert.cert.toString()));
  });

  it('a running agent renews its certificate at 2/3 of its life and swaps its TLS context without a restart; polls never fail', async () => {
    const t = newToken();
    const agentPort = await freePort();
    expect(run(AGENT_CLI, [...joinArgs('w2', 'w2', t.caCertHash, base, agentPort), '--token', t.token]).code).toBe(0);
    const cfg = path.join(dir, 'w2', 'agent.yaml');
    appendFileSync(cfg, `root: ${path.join(dir, 'w2', 'root')}\nstateDir: /var/lib/nodewright\nlog:\n  level: info\n`);
    const first = shaOf(readFileSync(path.join(dir, 'w2', 'agent.crt')));
    agent = spawn('node', [AGENT_CLI, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH } });
    agent.stdout!.on('data', (c) => (agentLogs += c));
    agent.stderr!.on('data', (c) => (agentLogs += c));
    const pid = agent.pid;
    await waitUntil('the agent serving its joined certificate', async () => (await servedSha(agentPort, ca()).catch(() => '')) === first, 15_000, () => agentLogs);
    const polled = (h: string) => JSON.parse(nodewright('nodes', 'show', 'w2', '--json').stdout).state === h;
    await waitUntil('the controller polling w2', () => !polled('unknown') && !polled('unreachable'), 15_000, () => logs);
    const eventsNow = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number });
    const since = eventsNow[eventsNow.length - 1].id;
    // 60 s lifetime, 6 s back-dated: renewal due ~38 s after the join
    await waitUntil('a renewed certificate served', async () => {
      const served = await servedSha(agentPort, ca()).catch(() => first);
      return served !== first && served === JSON.parse(nodewright('nodes', 'show', 'w2', '--json').stdout).certSha256;
    }, 60_000, () => agentLogs);
    expect(agent.pid).toBe(pid);
    expect(agent.exitCode).toBeNull();
    expect(shaOf(readFileSync(path.join(dir, 'w2', 'agent.crt')))).not.toBe(first);
    expect(existsSync(path.join(dir, 'w2', 'agent.key.next'))).toBe(false);
    await waitUntil('the renewal logged', () => /certificate renewed/.test(agentLogs), 5_000, () => agentLogs);
    const agentMetrics = await call(`https://127.0.0.1:${agentPort}/metrics`, { ...operator(), servername: 'w2', checkServerIdentity: () => undefined });
    expect(agentMetrics.text).toMatch(/^nodewright_cert_renewals_total\{result="ok"\} [1-9]/m);
    expect(agentMetrics.text).toMatch(/^nodewright_cert_expiry_seconds \d+$/m);
    // a few more polls over the new certificate, then: w2 never went unreachable
    await new Promise((r) => setTimeout(r, 2_000));
    const health = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'node.health' && e.subject === 'w2');
    expect(health.filter((e) => e.id > since && e.data?.to === 'unreachable')).toEqual([]);
    expect(JSON.parse(nodewright('nodes', 'show', 'w2', '--json').stdout).state).not.toBe('unreachable');
  }, 90_000);

  it('a rate-limited renewal: the agent waits out Retry-After, its /v1/status has the failure, nodes show prints it', async () => {
    const show = () => JSON.parse(nodewright('nodes', 'show', 'w2', '--json').stdout);
    await waitUntil('the renewed certificate in the agent status', () => {
      const s = show();
      return s.status?.cert?.notAfter === s.certNotAfter;
    }, 10_000, () => logs);
    expect(show().status.cert).toMatchObject({ lastRenewalError: null, renewAt: expect.any(String) });
    // use up w2's renewals with its pinned certificate and requests that renew nothing
    const current = creds('w2');
    let limited = 0;
    for (let i = 0; i < 4 && limited !== 429; i++) limited = (await call(`${base}/v1/renew`, { ...current, body: '{}' })).status;
    expect(limited).toBe(429);
    await waitUntil('the failed renewal in nodes show', () => /certificate renewal failed at \S+: NW_RATE_LIMIT: .*certificate renewals of node w2/.test(nodewright('nodes', 'show', 'w2').stdout), 60_000, () => agentLogs);
    expect(show().status.cert.lastRenewalError).toMatchObject({ code: 'NW_RATE_LIMIT', at: expect.any(String) });
    // the agent's log line may reach the pipe after its status has the error
    const limitedLines = () => agentLogs.split('\n').filter((l) => l.includes('NW_RATE_LIMIT'));
    await waitUntil('the rate-limited renewal logged', () => limitedLines().length > 0, 10_000, () => agentLogs);
    const retry = limitedLines().map((l) => JSON.parse(l).retryInMs as number);
    expect(Math.min(...retry)).toBeGreaterThan(500_000);
  }, 90_000);

  it('certs renew re-issues controller.crt and operator.crt for the same keys, names and role; the CLI still works', () => {
    const ctl = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
    const before = { controller: new X509Certificate(ctl('controller.crt')), operator: new X509Certificate(ctl('operator.crt')), keys: [ctl('controller.key'), ctl('operator.key')] };
    expect(run(CONTROLLER_CLI, ['certs', 'renew', '--dir', path.join(dir, 'ctl'), '--days', '0']).stderr).toMatch(/^NW_USAGE: --days/);
    const r = run(CONTROLLER_CLI, ['certs', 'renew', '--dir', path.join(dir, 'ctl'), '--days', '30', '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).map((c: { name: string }) => c.name)).toEqual(['controller', 'operator']);
    for (const f of ['controller', 'operator'] as const) {
      const now = new X509Certificate(ctl(`${f}.crt`));
      expect(now.serialNumber).not.toBe(before[f].serialNumber);
      expect(identityOf(now)).toEqual(identityOf(before[f]));
      expect(now.subjectAltName).toBe(before[f].subjectAltName);
      expect(now.publicKey.equals(before[f].publicKey)).toBe(true);
      expect(Date.parse(now.validTo) - Date.now()).toBeLessThan(31 * 86_400_000);
    }
    expect([ctl('controller.key'), ctl('operator.key')]).toEqual(before.keys);
    expect(run(CONTROLLER_CLI, ['certs', 'renew', '--dir', path.join(dir, 'ctl')]).stdout).toMatch(/systemctl reload nodewright-controller/);
    // the running controller still serves the old certificate (until reloaded); the new operator certificate is accepted
    expect(nodewright('nodes', 'ls', '--json').code).toBe(0);
    expect(run(CONTROLLER_CLI, ['certs', 'renew', '--dir', path.join(dir, 'w1')]).stderr).toMatch(/^NW_/);
  });

  it('SIGHUP: the running controller serves its renewed certificate without a restart and keeps polling; a broken one is logged and the old kept', async () => {
    const crtFile = path.join(dir, 'ctl', 'controller.crt');
    const renewed = shaOf(readFileSync(crtFile));
    const pid = controller!.pid!;
    expect(await servedSha(port, ca())).not.toBe(renewed);
    const eventsNow = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number });
    const since = eventsNow[eventsNow.length - 1].id;
    process.kill(pid, 'SIGHUP');
    await waitUntil('the renewed certificate served', async () => (await servedSha(port, ca()).catch(() => '')) === renewed, 10_000, () => logs);
    expect(logs).toMatch(/controller certificate reloaded/);
    // polls go on over new connections with the new client certificate (idle pooled ones were closed)
    await new Promise((r) => setTimeout(r, 2_000));
    const health = nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.kind === 'node.health' && e.subject === 'w2');
    expect(health.filter((e) => e.id > since && e.data?.to === 'unreachable')).toEqual([]);
    expect(JSON.parse(nodewright('nodes', 'show', 'w2', '--json').stdout).state).not.toBe('unreachable');
    // a broken controller.crt: NW_TLS logged, the renewed certificate still served, the daemon alive
    const good = readFileSync(crtFile, 'utf8');
    writeFileSync(crtFile, good.slice(0, 200));
    try {
      process.kill(pid, 'SIGHUP');
      await waitUntil('the refusal logged', () => /NW_TLS.*controller certificate not reloaded|controller certificate not reloaded.*NW_TLS/.test(logs), 10_000, () => logs);
      expect(controller!.exitCode).toBeNull();
      expect(await servedSha(port, ca())).toBe(renewed);
      expect(nodewright('nodes', 'ls', '--json').code).toBe(0);
    } finally {
      writeFileSync(crtFile, good);
    }
  }, 30_000);
});
