// `nodewright-agent run` as a real process on a sandbox root, with a fake NOTIFY_SOCKET:
// READY=1 / WATCHDOG=1 / STATUS= / STOPPING=1, the HTTP face (auth, limits, schema), drift repair.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENT_CLI, KEYRING, desiredKeyringOnly, requireBuild, sandbox, type Sandbox } from './fixture.js';

let sb: Sandbox;
let agent: ChildProcess;
let listener: ChildProcess;
const notes: string[] = [];
let logs = '';

const waitFor = async (what: string, f: () => boolean | Promise<boolean>, ms = 10_000) => {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; agent log:\n${logs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const url = (p: string) => `http://127.0.0.1:${sb.port}${p}`;
const post = (p: string, body: unknown, token: string | null = sb.token) =>
  fetch(url(p), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  requireBuild();
  sb = await sandbox('limits:\n  bodyBytes: 65536\n');
  const sock = path.join(sb.dir, 'notify.sock');
  listener = spawn('python3', [path.resolve('lab/worker/notify-listener.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  listener.stdout!.setEncoding('utf8').on('data', (d: string) => notes.push(...d.trim().split('\n')));
  await waitFor('notify listener', () => notes.includes('LISTENING'));
  agent = spawn('node', [AGENT_CLI, 'run', '--config', sb.config], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  await waitFor('READY=1', () => notes.some((n) => n.includes('READY=1')));
});
afterAll(() => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  if (listener && listener.exitCode === null) listener.kill('SIGKILL');
  sb?.cleanup();
});

describe('agent daemon (sandbox root, fake NOTIFY_SOCKET)', () => {
  test('READY=1 with a STATUS line, then WATCHDOG=1 pings at half of WATCHDOG_USEC', async () => {
    expect(notes.find((n) => n.includes('READY=1'))).toMatch(/STATUS=waiting for a signed desired state/);
    await waitFor('two WATCHDOG=1', () => notes.filter((n) => n.includes('WATCHDOG=1')).length >= 2, 3000);
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect((await fetch(url('/readyz'))).status).toBe(503);
  });

  test('missing/wrong token → 401, unsigned/mis-signed/malformed → 400 coded; nothing changes', async () => {
    const stateFile = sb.real('/var/lib/nodewright/state.json');
    const readState = () => (existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : null);
    const stateBefore = readState();
    const signed = sb.sign(desiredKeyringOnly(1)) as any;
    const r1 = await post('/v1/desired', signed, null);
    expect(r1.status).toBe(401);
    expect((await r1.json()).code).toBe('NW_AUTH');
    expect((await post('/v1/desired', signed, `${sb.token}x`)).status).toBe(401);
    expect((await post('/v1/reconcile', {}, 'nope')).status).toBe(401);
    const r2 = await post('/v1/desired', desiredKeyringOnly(1));
    expect(r2.status).toBe(400);
    expect((await r2.json()).code).toBe('NW_SIGNATURE');
    const mis = structuredClone(signed);
    mis.desired.generation = 2;
    expect((await (await post('/v1/desired', mis)).json()).code).toBe('NW_SIGNATURE');
    const r3 = await post('/v1/desired', '{"not json');
    expect(r3.status).toBe(400);
    const big = await post('/v1/desired', { pad: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect((await post('/v1/reconcile', {})).status).toBe(409);
    expect(readState()).toBe(stateBefore);
    expect(existsSync(sb.real('/etc/ceph'))).toBe(false);
    expect(logs).not.toContain(sb.token);
  });

  test('a signed bundle converges; status, readyz, metrics; STATUS= follows', async () => {
    const r = await post('/v1/desired?wait=1', sb.sign(desiredKeyringOnly(1)));
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.status.converged).toBe(true);
    expect(body.status.desired.generation).toBe(1);
    expect(JSON.stringify(body)).not.toContain('AQCs2Q9b');
    expect(statSync(sb.real('/etc/ceph/ceph.client.k8s.keyring')).mode & 0o777).toBe(0o600);
    expect((await fetch(url('/readyz'))).status).toBe(200);
    const m = await (await fetch(url('/metrics'))).text();
    expect(m).toMatch(/^nodewright_reconcile_total\{result="ok"\} [1-9]/m);
    expect(m).toContain('nodewright_auth_failures_total 3');
    expect(m).toContain('nodewright_step_state{step="keyring",state="changed"} 1');
    await waitFor('STATUS converged', () => notes.some((n) => n.includes('STATUS=gen 1: converged')));
    expect(logs).not.toContain('AQCs2Q9b');
  });

  test('drift: a tampered or deleted keyring is restored', async () => {
    const kr = sb.real('/etc/ceph/ceph.client.k8s.keyring');
    writeFileSync(kr, 'tampered\n');
    await waitFor('keyring restored', () => readFileSync(kr, 'utf8') === KEYRING, 5000);
    unlinkSync(kr);
    await waitFor('keyring recreated', () => existsSync(kr) && readFileSync(kr, 'utf8') === KEYRING, 5000);
    expect(statSync(kr).mode & 0o777).toBe(0o600);
    const m = await (await fetch(url('/metrics'))).text();
    expect(m).toMatch(/nodewright_drift_repairs_total [1-9]/);
  });

  test('SIGTERM: STOPPING=1, graceful exit 0', async () => {
    const exited = new Promise<number | null>((r) => agent.once('exit', (c) => r(c)));
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(notes.some((n) => n.includes('STOPPING=1'))).toBe(true);
  });
});
