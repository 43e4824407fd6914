// A sandbox worker for the agent's integration tests: --root dir, keys, token, agent.yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../../lab/ports.js';
import path from 'node:path';
import { generateSigningKeys, loadPrivateKey, signBundle } from '../../../protocol/bundle.js';

export const AGENT_CLI = path.resolve('dist/agent/cli.js');
export const CONTROLLER_CLI = path.resolve('dist/controller/cli.js');
export const KEY = 'AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==';
export const KEYRING = `[client.k8s]\n\tkey = ${KEY}\n`;

export function requireBuild(): void {
  if (!existsSync(AGENT_CLI) || !existsSync(CONTROLLER_CLI)) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
}

export { freePort };

export interface Sandbox {
  dir: string;
  root: string;
  config: string;
  token: string;
  port: number;
  keyFile: string;
  pubFile: string;
  sign: (d: unknown) => unknown;
  real: (p: string) => string;
  cleanup: () => void;
}

export const desiredKeyringOnly = (generation = 1) => ({
  schema: 1,
  generation,
  ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: KEYRING },
});

export async function sandbox(extraYaml = ''): Promise<Sandbox> {
  const dir = mkdtempSync('/tmp/nw-agent-it-');
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const keys = generateSigningKeys();
  const keyFile = path.join(dir, 'controller.key');
  const pubFile = path.join(dir, 'controller.pub');
  writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(pubFile, keys.publicKeyPem);
  const token = 't'.repeat(8) + Math.random().toString(36).slice(2).padEnd(24, 'z');
  writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\ntokenFile: ${dir}/token\npublicKeyFile: ${pubFile}\nroot: ${root}\nstateDir: /var/lib/nodewright\n${extraYaml.includes('drift:') ? '' : 'drift:\n  debounceMs: 20\n'}log:\n  level: info\n${extraYaml}`,
  );
  const priv = loadPrivateKey(keys.privateKeyPem);
  return {
    dir,
    root,
    config,
    token,
    port,
    keyFile,
    pubFile,
    sign: (d) => signBundle(d, priv),
    real: (p) => path.join(root, p),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function runCli(cli: string, args: string[], input?: string) {
  const r = spawnSync('node', [cli, ...args], { encoding: 'utf8', input, timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Poll until `f` is true; on timeout the error carries the tail of `log()`. */
export async function waitUntil(what: string, f: () => boolean | Promise<boolean>, ms = 15_000, log: () => string = () => ''): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; agent log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
