// Start-up checks of the agent's TLS and token material (agent/auth.ts) on real files, and the
// real `nodewright-agent run` refusing unsafe set-ups with exit 2 before it listens.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadServerAuth } from '../../../agent/auth.js';
import { parseAgentConfig } from '../../../agent/config.js';
import { AGENT_CLI, requireBuild, runCli, sandbox, type Sandbox } from './fixture.js';
import { fleet, type Fleet } from './pki-fixture.js';

let sb: Sandbox;
let pki: Fleet;
const uid = process.getuid!();

const configWith = (extra: string) => parseAgentConfig(readFileSync(sb.config, 'utf8') + extra, sb.config);
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e) => `${e.code}: ${e.message}`);

beforeAll(async () => {
  requireBuild();
  pki = await fleet();
  sb = await sandbox();
}, 60_000);

describe('agent TLS / token material at start', () => {
  test('a good triple loads; relative tls paths resolve against agent.yaml', async () => {
    const cfg = configWith(pki.install(sb.dir));
    expect(cfg.tls!.key).toBe(path.join(sb.dir, 'tls/agent.key'));
    const auth = await loadServerAuth(cfg, uid);
    expect(auth.kind).toBe('tls');
  });

  test('key readable by group/others or owned by another uid → NW_CONFIG with the fix', async () => {
    const cfg = configWith(pki.install(sb.dir));
    chmodSync(cfg.tls!.key, 0o640);
    expect(await codeOf(loadServerAuth(cfg, uid))).toMatch(/^NW_CONFIG: the TLS key .* has mode 0640.*chmod 0600/);
    chmodSync(cfg.tls!.key, 0o600);
    expect(await codeOf(loadServerAuth(cfg, uid + 4242))).toMatch(/^NW_CONFIG: the TLS key .* owned by uid \d+, not the agent's uid/);
  });

  test('token file mode is checked in token mode', async () => {
    const cfg = configWith('');
    chmodSync(cfg.tokenFile, 0o644);
    expect(await codeOf(loadServerAuth(cfg, uid))).toMatch(/^NW_CONFIG: the auth token file .* mode 0644/);
    chmodSync(cfg.tokenFile, 0o600);
    expect((await loadServerAuth(cfg, uid)).kind).toBe('token');
  });

  test('cert not matching the key, or not from the CA → NW_TLS saying what to do', async () => {
    const cfg = configWith(pki.install(sb.dir));
    writeFileSync(cfg.tls!.key, pki.clients.controller.key, { mode: 0o600 });
    expect(await codeOf(loadServerAuth(cfg, uid))).toMatch(/^NW_TLS: .*agent.key is not the key of .*agent.crt/);
    pki.install(sb.dir);
    writeFileSync(cfg.tls!.cert, pki.clients.foreign.cert);
    writeFileSync(cfg.tls!.key, pki.clients.foreign.key, { mode: 0o600 });
    expect(await codeOf(loadServerAuth(cfg, uid))).toMatch(/^NW_TLS: .*agent.crt is not signed by the CA in .*ca.crt: issue it with `nodewright ca issue`/);
    writeFileSync(cfg.tls!.ca, 'junk');
    expect(await codeOf(loadServerAuth(cfg, uid))).toMatch(/^NW_TLS: .*ca.crt is not a PEM certificate/);
  });

  test('nodewright-agent run refuses a non-loopback listen without tls and an exposed key (exit 2, nothing listens)', () => {
    const text = readFileSync(sb.config, 'utf8');
    const cfg = path.join(sb.dir, 'exposed.yaml');
    writeFileSync(cfg, text.replace(/listen: 127.0.0.1:/, 'listen: 0.0.0.0:'));
    const r = runCli(AGENT_CLI, ['run', '--config', cfg]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/NW_CONFIG: .*exposed.yaml:1: \/listen: 0.0.0.0 is not a loopback address/)]);
    const tlsCfg = path.join(sb.dir, 'agent-tls.yaml');
    writeFileSync(tlsCfg, text + pki.install(sb.dir));
    chmodSync(path.join(sb.dir, 'tls/agent.key'), 0o644);
    const r2 = runCli(AGENT_CLI, ['run', '--config', tlsCfg]);
    expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/NW_CONFIG: the TLS key .* has mode 0644/)]);
  });
});
