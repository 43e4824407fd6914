// `nodewright-agent run` as a real process: no replay of signed bundles. Stale, conflicting,
// expired and mis-targeted bundles are refused with their coded HTTP status and the state file
// stays byte-identical; an idempotent re-post starts no reconcile; a newline in monHost never
// reaches ceph.conf; after a key rotation an older generation is still stale.
import { spawn, type ChildProcess } from 'node:child_process';
import { sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpStatusOf, type ErrorCode } from '../../../host/errors.js';
import { canonicalJson } from '../../../protocol/canonical.js';
import { generateSigningKeys, loadPrivateKey, signBundle } from '../../../protocol/bundle.js';
import { AGENT_CLI, desiredKeyringOnly, requireBuild, sandbox, type Sandbox } from './fixture.js';

let sb: Sandbox;
let agent: ChildProcess | null = null;
let logs = '';
// No cron run and no drift watch during the test: every reconcile counted here was started by a request.
const NEVER = '0 0 1 1 *';

const url = (p: string) => `http://127.0.0.1:${sb.port}${p}`;
const post = (p: string, body: unknown) =>
  fetch(url(p), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sb.token}` }, body: JSON.stringify(body) });
const status = async () => (await fetch(url('/v1/status'))).json();
const stateFile = () => sb.real('/var/lib/nodewright/state.json');
const cephConf = () => sb.real('/etc/ceph/ceph.conf');

const FUTURE = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
const PAST = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
const bound = (generation: number, over: Record<string, unknown> = {}) => ({ ...desiredKeyringOnly(generation), nodeGroup: 'workers-a', nodes: ['w1', 'w2'], notAfter: FUTURE, ...over });

async function startAgent(): Promise<void> {
  agent = spawn('node', [AGENT_CLI, 'run', '--config', sb.config], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  const t0 = Date.now();
  while (!(await fetch(url('/healthz')).then((r) => r.ok, () => false))) {
    if (agent.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`the agent did not come up:\n${logs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function stopAgent(): Promise<void> {
  if (!agent || agent.exitCode !== null) return;
  const exited = new Promise((r) => agent!.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  requireBuild();
  sb = await sandbox(`node: w1\nnodeGroup: workers-a\ndrift:\n  enabled: false\nschedule:\n  reconcile: "${NEVER}"\n  probes: "${NEVER}"\n`);
  await startAgent();
});
afterAll(() => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  sb?.cleanup();
});

/** POST a bundle that must be refused with `code`; the state file and ceph.conf must not change. */
async function refused(bundle: unknown, code: ErrorCode): Promise<string> {
  const before = [readFileSync(stateFile()), readFileSync(cephConf())];
  const r = await post('/v1/desired?wait=1', bundle);
  const body = await r.json();
  expect(body.code, JSON.stringify(body)).toBe(code);
  expect(r.status).toBe(httpStatusOf(code));
  expect(readFileSync(stateFile()).equals(before[0]), 'state.json changed').toBe(true);
  expect(readFileSync(cephConf()).equals(before[1]), 'ceph.conf changed').toBe(true);
  return body.message;
}

describe('agent daemon: no replay of signed bundles', () => {
  test('a bound, unexpired generation 5 is accepted and converges', async () => {
    const r = await post('/v1/desired?wait=1', sb.sign(bound(5)));
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ accepted: true, generation: 5, changed: true });
    expect(body.status.converged).toBe(true);
    expect(body.status.reconciles).toBe(1);
  });

  test('stale, conflicting, expired and mis-targeted bundles: coded status, state file byte-identical', async () => {
    expect(await refused(sb.sign(bound(4)), 'NW_STALE')).toMatch(/generation 4 is older than generation 5/);
    expect(await refused(sb.sign(desiredKeyringOnly(1)), 'NW_STALE')).toMatch(/sign the old content as a new generation above 5/);
    expect(await refused(sb.sign(bound(5, { runtime: 'native' })), 'NW_GENERATION_CONFLICT')).toMatch(/generation 5 was already accepted with other content/);
    expect(await refused(sb.sign(bound(6, { notAfter: PAST })), 'NW_EXPIRED')).toContain(PAST);
    expect(await refused(sb.sign(bound(6, { nodeGroup: 'workers-b' })), 'NW_TARGET')).toMatch(/node group workers-b, this agent is in workers-a/);
    expect(await refused(sb.sign(bound(6, { nodes: ['w2', 'w3'] })), 'NW_TARGET')).toMatch(/not to this node \(w1\)/);
    const m = await (await fetch(url('/metrics'))).text();
    expect(m).toContain('nodewright_bundles_rejected_total 6');
    expect((await status()).desired.generation).toBe(5);
  });

  test('a monHost with a newline, correctly signed, is refused and never reaches ceph.conf', async () => {
    const evil = bound(6);
    evil.ceph = { ...evil.ceph, monHost: ['127.0.0.1:3300\nrun dir = /nonexistent'] };
    const priv = loadPrivateKey(readFileSync(sb.keyFile, 'utf8'));
    const value = sign(null, Buffer.from(`nodewright.bundle/v1\n${canonicalJson(evil)}`), priv).toString('base64');
    const msg = await refused({ kind: 'nodewright.bundle/v1', desired: evil, signature: { alg: 'ed25519', keyId: 'k', value } }, 'NW_BUNDLE');
    expect(msg).toMatch(/\/ceph\/monHost\/0/);
    expect(readFileSync(cephConf(), 'utf8')).not.toContain('run dir');
  });

  test('the same generation and content again: accepted, no reconcile started, nothing written', async () => {
    const before = await status();
    const bytes = readFileSync(stateFile());
    const again = await post('/v1/desired', sb.sign(bound(5)));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: true, generation: 5, changed: false });
    const waited = await post('/v1/desired?wait=1', sb.sign(bound(5)));
    expect((await waited.json()).status.reconciles).toBe(before.reconciles);
    await new Promise((r) => setTimeout(r, 500)); // a reconcile, had one started, would have finished
    const after = await status();
    expect(after.reconciles).toBe(before.reconciles);
    expect(after.lastReconcile).toEqual(before.lastReconcile);
    expect(readFileSync(stateFile()).equals(bytes)).toBe(true);
    // The counter does move: a new generation reconciles once.
    expect((await post('/v1/desired?wait=1', sb.sign(bound(6)))).status).toBe(200);
    expect((await status()).reconciles).toBe(before.reconciles + 1);
  });

  test('after a key rotation the stored bundle is dropped but an older generation is still stale', async () => {
    await stopAgent();
    const keys = generateSigningKeys();
    writeFileSync(sb.pubFile, keys.publicKeyPem);
    await startAgent();
    expect((await status()).desired).toBeNull();
    const rotated = loadPrivateKey(keys.privateKeyPem);
    expect(await refused(signBundle(bound(5), rotated), 'NW_STALE')).toMatch(/older than generation 6/);
    // The highest generation's own content, re-signed by the new key, is taken back (and reconciled).
    const r = await post('/v1/desired?wait=1', signBundle(bound(6), rotated));
    expect(await r.json()).toMatchObject({ accepted: true, generation: 6, changed: true, status: { converged: true } });
    expect(logs).not.toContain('AQCs2Q9b');
    expect(logs).not.toContain(sb.token);
  });
});
