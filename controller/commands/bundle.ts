// nodewright keygen | bundle sign | bundle verify: make signed desired-state bundles today.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { NwError } from '../../host/errors.js';
import { readAgentCredentials, readText } from './files.js';
import { describeStatus, pushBundle, type AgentCredentials } from '../push.js';
import { applySignOverrides, type SignOverrides } from '../sign-overrides.js';
import { generateSigningKeys, keyId, loadPrivateKey, loadPublicKey, signBundle, verifyBundle } from '../../protocol/bundle.js';

/** A signed bundle file (JSON). */
async function readBundle(file: string): Promise<unknown> {
  const text = await readText(file, 'bundle');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NwError('NW_BUNDLE', `${file} is not JSON: ${(e as Error).message}`);
  }
}

/** A desired state as YAML or JSON (JSON is YAML). */
export function parseDesiredText(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new NwError('NW_BUNDLE', `${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function output(text: string, out?: string, mode = 0o644): Promise<void> {
  if (!out) return void process.stdout.write(text);
  await writeFile(out, text, { mode });
}

export function registerBundleCommands(program: Command): void {
  program
    .command('keygen')
    .description('create an ed25519 signing key pair (KEY 0600, KEY.pub for the agents)')
    .option('--out <file>', 'private key file', 'nodewright.key')
    .option('--force', 'overwrite existing files')
    .action(async (o: { out: string; force?: boolean }) => {
      const k = generateSigningKeys();
      await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
      const flag = o.force ? 'w' : 'wx';
      try {
        await writeFile(o.out, k.privateKeyPem, { mode: 0o600, flag });
        await writeFile(`${o.out}.pub`, k.publicKeyPem, { mode: 0o644, flag });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new NwError('NW_USAGE', `${o.out} already exists: pass --force to replace it`);
        throw e;
      }
      process.stdout.write(`${o.out} ${o.out}.pub keyId=${keyId(loadPublicKey(k.publicKeyPem))}\n`);
    });

  const bundle = program.command('bundle').description('signed desired-state bundles');
  bundle
    .command('sign')
    .description('validate a desired state (YAML/JSON) and sign it')
    .requiredOption('--key <file>', 'ed25519 private key from `nodewright keygen`')
    .option('--out <file>', 'write the signed bundle here (default stdout)')
    .option('--generation <n>', 'set generation (agents refuse one lower than, or equal with other content to, what they hold)')
    .option('--not-after <when>', 'set notAfter: an RFC 3339 instant or a duration from now (90m, 24h, 7d)')
    .option('--node-group <group>', 'bind the bundle to this node group (agent.yaml nodeGroup)')
    .option('--nodes <names>', 'bind the bundle to these nodes (comma-separated agent.yaml node names)')
    .argument('<file>', 'desired state')
    .action(async (file: string, o: { key: string; out?: string } & SignOverrides) => {
      const key = loadPrivateKey(await readText(o.key, 'signing key'));
      const desired = applySignOverrides(parseDesiredText(await readText(file, 'desired state'), file), o, new Date());
      const signed = signBundle(desired, key);
      await output(JSON.stringify(signed, null, 2) + '\n', o.out, 0o600);
    });
  bundle
    .command('verify')
    .description('check a signed bundle against a public key')
    .requiredOption('--pub <file>', 'ed25519 public key')
    .argument('<file>', 'signed bundle')
    .action(async (file: string, o: { pub: string }) => {
      const pub = loadPublicKey(await readText(o.pub, 'public key'));
      const d = verifyBundle(await readBundle(file), pub);
      process.stdout.write(`OK generation=${d.generation} keyId=${keyId(pub)}\n`);
    });
  bundle
    .command('push')
    .description('send a signed bundle to agents (POST /v1/desired), one after another; with --wait, report each reconcile')
    .requiredOption('--agent <url...>', 'agent base URL(s), e.g. https://10.0.0.5:7701 (http:// only for loopback agents)')
    .option('--ca <file>', 'fleet CA certificate, to check https agents')
    .option('--cert <file>', 'client certificate (controller or operator role) for https agents')
    .option('--key <file>', 'its private key')
    .option('--token-file <file>', 'file holding the bearer token of http (loopback) agents')
    .option('--wait', 'wait for each reconcile and stop at the first agent that is not ready')
    .option('--timeout <seconds>', 'per-agent timeout', '300')
    .option('--json', 'print JSON')
    .argument('<file>', 'signed bundle')
    .action(async (file: string, o: { agent: string[]; ca?: string; cert?: string; key?: string; tokenFile?: string; wait?: boolean; timeout: string; json?: boolean }) => {
      const creds: AgentCredentials = await readAgentCredentials(o);
      const signed = await readBundle(file);
      const results = [];
      for (const agent of o.agent) {
        const r = await pushBundle(agent, creds, signed, { wait: !!o.wait, timeoutMs: Number(o.timeout) * 1000 });
        results.push(r);
        const verdict = r.changed === false ? `already holds generation ${r.generation} (same content: no reconcile)` : `accepted generation ${r.generation}`;
        if (!o.json) process.stdout.write(`${agent}: ${verdict}\n${r.status ? describeStatus(r.status) + '\n' : ''}${r.statusProblem ? `  (${r.statusProblem})\n` : ''}`);
        if (o.wait && (r.statusProblem || (r.status && !r.status.ready))) {
          if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
          throw new NwError('NW_ROLLOUT', `${agent} is not ready after the reconcile (${r.statusProblem ?? r.status?.lastError?.code ?? 'see status'}): stopped before the next agent`);
        }
      }
      if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    });
}
