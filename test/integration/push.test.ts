// `nodewright bundle push` as a real process (node dist/controller/cli.js): against a real agent
// daemon on loopback (sandbox root) — accepted and converged with --wait, a wrong token is NW_AUTH,
// a bundle signed by another key is passed through as NW_PUSH … NW_SIGNATURE, an older generation
// is NW_STALE and the same one again reconciles nothing — and against small
// fastify stand-in agents: the token travels from the file as a Bearer header and never on argv,
// an unreachable agent is NW_PUSH, and --wait stops at the first agent that is not ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSigningKeys, loadPrivateKey, signBundle } from '../../protocol/bundle.js';
import { AGENT_CLI, CONTROLLER_CLI, desiredKeyringOnly, freePort, requireBuild, sandbox, type Sandbox } from './agent/fixture.js';

let sb: Sandbox;
let agent: ChildProcess;
let logs = '';
const agentUrl = () => `http://127.0.0.1:${sb.port}`;
const file = (name: string, text: string, mode = 0o600) => {
  const p = path.join(sb.dir, name);
  writeFileSync(p, text, { mode });
  return p;
};

/** The pushers started here (their /proc/PID/cmdline is checked for the token). */
const pids: number[] = [];
/** Run the controller CLI without blocking the event loop (the stand-in agents live in this process). */
const nodewright = async (...args: string[]) => {
  const child = execa('node', [CONTROLLER_CLI, ...args], { reject: false, timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, extendEnv: false });
  pids.push(child.pid!);
  const r = await child;
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};

beforeAll(async () => {
  requireBuild();
  sb = await sandbox();
  agent = spawn('node', [AGENT_CLI, 'run', '--config', sb.config], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  const t0 = Date.now();
  for (;;) {
    const ok = await fetch(`${agentUrl()}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (agent.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`the agent did not come up on ${agentUrl()}:\n${logs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(() => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  sb?.cleanup();
});

describe('nodewright bundle push → a real agent daemon', () => {
  test('--wait: accepted, converged and ready; the keyring never shows up in the output', async () => {
    const bundle = file('bundle-1.json', JSON.stringify(sb.sign(desiredKeyringOnly(1))));
    const tokenFile = file('token-ok', `${sb.token}\n`);
    const r = await nodewright('bundle', 'push', '--agent', agentUrl(), '--token-file', tokenFile, '--wait', bundle);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${agentUrl()}: accepted generation 1`);
    expect(r.stdout).toMatch(/ready=true converged=true/);
    expect(r.stdout).toMatch(/keyring\s+changed/);
    expect(r.stdout).not.toContain('AQCs2Q9b');
    const st = await (await fetch(`${agentUrl()}/v1/status`, { headers: { authorization: `Bearer ${sb.token}` } })).json();
    expect(st.desired.generation).toBe(1);
  });

  test('a wrong token: NW_AUTH, exit 2, nothing changes', async () => {
    const bundle = file('bundle-2.json', JSON.stringify(sb.sign(desiredKeyringOnly(2))));
    const r = await nodewright('bundle', 'push', '--agent', agentUrl(), '--token-file', file('token-bad', 'not-the-token-0123456789'), bundle);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_AUTH: agent http:\/\/127\.0\.0\.1:\d+ refused the token: use the token file installed on the worker/);
    expect(r.stderr).not.toContain('not-the-token');
    const st = await (await fetch(`${agentUrl()}/v1/status`)).json();
    expect(st.desired.generation).toBe(1);
  });

  test('a bundle signed by another key: the agent\'s 400 NW_SIGNATURE comes through as NW_PUSH, exit 2', async () => {
    const rogue = loadPrivateKey(generateSigningKeys().privateKeyPem);
    const bundle = file('rogue.json', JSON.stringify(signBundle(desiredKeyringOnly(3), rogue)));
    const r = await nodewright('bundle', 'push', '--agent', agentUrl(), '--token-file', file('token-ok2', sb.token), '--wait', bundle);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_PUSH: agent http:\/\/127\.0\.0\.1:\d+ refused the bundle \(400\): NW_SIGNATURE /);
    const st = await (await fetch(`${agentUrl()}/v1/status`)).json();
    expect(st.desired.generation).toBe(1);
  });
  test('bundle sign --generation/--not-after; the same bundle again reconciles nothing; an older one is NW_STALE with what to do', async () => {
    const signed2 = path.join(sb.dir, 'bundle-g2.json');
    const sign = await nodewright('bundle', 'sign', '--key', sb.keyFile, '--generation', '2', '--not-after', '1h', '--out', signed2, file('desired.json', JSON.stringify(desiredKeyringOnly(1))));
    expect(sign.stderr).toBe('');
    expect(JSON.parse(readFileSync(signed2, 'utf8')).desired).toMatchObject({ generation: 2, notAfter: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    const tokenFile = file('token-ok3', sb.token);
    const push = (bundle: string) => nodewright('bundle', 'push', '--agent', agentUrl(), '--token-file', tokenFile, '--wait', bundle);
    expect((await push(signed2)).stdout).toContain(`${agentUrl()}: accepted generation 2\nready=true`);
    const reconciles = (await (await fetch(`${agentUrl()}/v1/status`)).json()).reconciles;
    const again = await push(signed2);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${agentUrl()}: already holds generation 2 (same content: no reconcile)`);
    const stale = await push(path.join(sb.dir, 'bundle-1.json'));
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/^NW_STALE: agent http:\/\/127\.0\.0\.1:\d+ refused the bundle: generation 1 is older than generation 2, .*as a new generation above 2$/);
    const st = await (await fetch(`${agentUrl()}/v1/status`)).json();
    expect(st.desired.generation).toBe(2);
    expect(st.reconciles).toBe(reconciles);
  });
});

describe('nodewright bundle push → stand-in agents', () => {
  const servers: FastifyInstance[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const status = (ready: boolean, code?: string) => ({
    agent: { version: 'x', pid: 1, startedAt: '', node: 'stub' },
    facts: { hostname: 'stub', addresses: [], runtime: 'rkt' },
    desired: { generation: 7, acceptedAt: '' },
    converged: ready,
    ready,
    steps: [{ name: 'artifact', state: ready ? 'converged' : 'rolled_back', message: ready ? 'kubelet v2' : 'kubelet v3 not healthy', durationMs: 1, at: '', ...(code ? { error: { code, message: 'x' } } : {}) }],
    kubelet: { version: 'v2' },
    lastReconcile: null,
    lastError: code ? { code, message: 'kubelet v3 not healthy', at: '' } : null,
    probes: [],
    rollbacks: ready ? 0 : 1,
    reconciles: 1,
    recovery: null,
    inflight: null,
  });
  /** A stand-in agent: records every request (headers, query, the pusher's argv at that moment). */
  async function standIn(answer: (n: number) => { code: number; body: unknown }) {
    const seen: { authorization?: string; query: unknown; argv: string[] }[] = [];
    const app = Fastify();
    app.post('/v1/desired', async (req, reply) => {
      const argv = pids.flatMap((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      });
      seen.push({ authorization: req.headers.authorization, query: req.query, argv });
      const a = answer(seen.length);
      return reply.code(a.code).send(a.body);
    });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    servers.push(app);
    return { url: `http://127.0.0.1:${port}`, seen };
  }

  test('the token is read from the file and sent as a Bearer header, never on argv', async () => {
    const token = `tok-${Math.random().toString(36).slice(2)}-${'s'.repeat(16)}`;
    const a = await standIn(() => ({ code: 202, body: { accepted: true, generation: 7 } }));
    const r = await nodewright('bundle', 'push', '--agent', a.url, '--token-file', file('token-stub', `${token}\n`), file('b7.json', '{"kind":"nodewright.bundle/v1"}'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${a.url}: accepted generation 7`);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0].authorization).toBe(`Bearer ${token}`);
    expect(a.seen[0].argv).toContain('push');
    expect(a.seen[0].argv.join(' ')).not.toContain(token);
    expect(a.seen[0].query).toEqual({});
  });

  test('401 → NW_AUTH, exit 2', async () => {
    const a = await standIn(() => ({ code: 401, body: { code: 'NW_AUTH', message: 'missing or wrong bearer token' } }));
    const r = await nodewright('bundle', 'push', '--agent', a.url, '--token-file', file('token-x', 'x'.repeat(20)), file('b8.json', '{}'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_AUTH: /);
  });

  test('an unreachable agent → NW_PUSH naming the address, exit 2', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await nodewright('bundle', 'push', '--agent', url, '--token-file', file('token-y', 'y'.repeat(20)), file('b9.json', '{}'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^NW_PUSH: cannot reach the agent at ${url}: .*ECONNREFUSED.*nodewright-agent is running`));
  });

  test('--wait goes agent by agent and stops at the first one that is not ready: NW_ROLLOUT, exit 2', async () => {
    const first = await standIn(() => ({ code: 200, body: { accepted: true, generation: 7, status: status(true) } }));
    const second = await standIn(() => ({ code: 200, body: { accepted: true, generation: 7, status: status(false, 'NW_HEALTH') } }));
    const third = await standIn(() => ({ code: 200, body: { accepted: true, generation: 7, status: status(true) } }));
    const r = await nodewright('bundle', 'push', '--agent', first.url, second.url, third.url, '--token-file', file('token-z', 'z'.repeat(20)), '--wait', file('b10.json', '{}'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^NW_ROLLOUT: ${second.url} is not ready after the reconcile \\(NW_HEALTH\\): stopped before the next agent`));
    expect(first.seen.map((s) => s.query)).toEqual([{ wait: '1' }]);
    expect(second.seen).toHaveLength(1);
    expect(third.seen).toHaveLength(0);
    expect(r.stdout).toContain(`${first.url}: accepted generation 7\nready=true`);
    expect(r.stdout).toMatch(/artifact\s+rolled_back\s+NW_HEALTH/);
  });

  test('--wait: a status of another shape is shown as such and stops the push; an oversized answer is NW_PUSH', async () => {
    const odd = await standIn(() => ({ code: 200, body: { accepted: true, generation: 7, status: { ...status(true), steps: null } } }));
    const next = await standIn(() => ({ code: 200, body: { accepted: true, generation: 7, status: status(true) } }));
    const r = await nodewright('bundle', 'push', '--agent', odd.url, next.url, '--token-file', file('token-w', 'w'.repeat(20)), '--wait', file('b11.json', '{}'));
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${odd.url}: accepted generation 7\n  (status invalid: /steps: Expected array)`);
    expect(r.stderr).toMatch(/^NW_ROLLOUT: .* is not ready after the reconcile \(status invalid: \/steps: Expected array\): stopped before the next agent/);
    expect(next.seen).toHaveLength(0);
    const big = await standIn(() => ({ code: 202, body: { accepted: true, generation: 7, padding: 'x'.repeat(1 << 20) } }));
    const b = await nodewright('bundle', 'push', '--agent', big.url, '--token-file', file('token-v', 'v'.repeat(20)), file('b12.json', '{}'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^NW_PUSH: the agent at .*: the agent's answer is larger than 65536 bytes: aborted; is this address a nodewright agent\?/);
  });
});
