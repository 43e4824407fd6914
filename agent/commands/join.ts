// `nodewright-agent join`: enroll this worker with a controller, kubeadm style. The key pair is made
// here and never leaves the worker; before anything is sent, the controller's CA (sent in its TLS
// chain) must match the pinned --ca-cert-hash, and every request after that verifies the controller
// against that CA, its host name and the controller role (a worker's certificate chains to the same
// CA). The token comes from --token-file, $NODEWRIGHT_JOIN_TOKEN or --token (visible in `ps`).
// On success PATH (agent.yaml, with the controller URL the agent renews its certificate at) and its
// files are written next to each other; on any refusal (wrong, used or expired token; hash
// mismatch; not the controller) nothing is written.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Command } from 'commander';
import { NwError, isNwError, type ErrorCode } from '../../host/errors.js';
import { RootedFs } from '../../host/fs.js';
import { requestJsonFollowing, type JsonAnswer } from '../../host/http-json.js';
import { checkControllerIdentity } from '../../pki/identity.js'; // node:tls only, no certificate library

// pki (x509 + WebCrypto) loads only when a join runs: the other agent commands do not pay for it.
const pki = () => import('../../pki/index.js');

export const JOIN_FILES = { cert: 'agent.crt', key: 'agent.key', ca: 'ca.crt', publicKey: 'controller.pub' } as const;

export interface JoinOptions {
  controller: string;
  token: string;
  caCertHash: string;
  configOut: string;
  listen: string;
  name: string;
  /** The Nova server id for hosts without a DMI product_uuid: sent with the join and written to agent.yaml. */
  instanceUuid?: string;
  timeoutMs?: number;
}

const toPem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/** Connect without trusting anything, read the chain, return the certificate whose key matches the pin. */
export async function fetchPinnedCa(url: URL, pin: string, timeoutMs: number): Promise<string> {
  const { caCertHash } = await pki();
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = tls.connect({ host, port: Number(url.port || 443), rejectUnauthorized: false, servername: isIP(host) ? undefined : host, timeout: timeoutMs }, () => {
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      const found: string[] = [];
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        const pem = toPem(cert.raw);
        found.push(pem);
        cert = cert.issuerCertificate;
      }
      socket.end();
      const ca = found.find((pem) => new X509Certificate(pem).ca && caCertHash(pem) === pin);
      if (!ca) return reject(new NwError('NW_TLS', `the controller at ${url.origin} offers no CA matching --ca-cert-hash ${pin}: check the hash printed by \`nodewright nodes join-token\`, and that this is the right controller`));
      resolve(ca);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.on('error', (e) => reject(new NwError('NW_PUSH', `cannot reach the controller at ${url.origin}: ${e.message}; check --controller`)));
  });
}

async function postJson(url: URL, ca: string, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
  // the pinned CA, the host name and the controller role: a worker's certificate chains to the same CA;
  // a follower's 307 to the leader is followed under the same checks
  return requestJsonFollowing(url, { method: 'POST', ca, body: JSON.stringify(body), timeoutMs, checkServerIdentity: checkControllerIdentity }).catch((e: Error) => {
    if (isNwError(e)) throw e;
    throw new NwError('NW_TLS', `the join request to ${url.origin} failed: ${e.message} (the controller's certificate must verify against the pinned CA and name the --controller host)`);
  });
}

/**
 * The join token from --token-file, $NODEWRIGHT_JOIN_TOKEN or --token (visible in `ps`), in that
 * order; exactly one may be given.
 */
export function joinTokenFrom(o: { token?: string; tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const given = [o.tokenFile !== undefined, env.NODEWRIGHT_JOIN_TOKEN !== undefined && env.NODEWRIGHT_JOIN_TOKEN !== '', o.token !== undefined].filter(Boolean).length;
  if (given === 0) throw new NwError('NW_USAGE', 'the join token is missing: pass --token-file FILE or set NODEWRIGHT_JOIN_TOKEN (--token works too, but is visible in `ps`)');
  if (given > 1) throw new NwError('NW_USAGE', 'give the join token one way only: --token-file, NODEWRIGHT_JOIN_TOKEN or --token');
  if (o.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.tokenFile, 'utf8');
    } catch (e) {
      throw new NwError('NW_USAGE', `cannot read the join token file ${o.tokenFile} (${(e as NodeJS.ErrnoException).code}): write the token from \`nodewright nodes join-token\` there`);
    }
    return text.trim();
  }
  return (env.NODEWRIGHT_JOIN_TOKEN ?? o.token ?? '').trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The worker's facts at join; `instanceUuid` (--instance-uuid) wins over the DMI product_uuid, as agent.yaml's does in status. */
export function workerFacts(instanceUuidOverride?: string): { hostname: string; addresses: string[]; instanceUuid?: string } {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => Boolean(a) && !a!.internal)
    .map((a) => a.address);
  let instanceUuid = instanceUuidOverride?.toLowerCase();
  try {
    instanceUuid ??= readFileSync('/sys/class/dmi/id/product_uuid', 'utf8').trim().toLowerCase() || undefined;
  } catch {
    // not readable (containers, non-root): --instance-uuid, or the controller maps by address or name
  }
  return { hostname: os.hostname(), addresses, ...(instanceUuid ? { instanceUuid } : {}) };
}

export function agentYaml(o: { listen: string; node: string; nodeGroup: string; controller: string; instanceUuid?: string }): string {
  return `# Written by \`nodewright-agent join\`. Relative paths are relative to this file.
listen: "${o.listen}"
node: "${o.node}"
nodeGroup: "${o.nodeGroup}"
# the agent renews its certificate here before it expires
controller: "${o.controller}"
publicKeyFile: ${JOIN_FILES.publicKey}
${o.instanceUuid ? `# the Nova server id (no DMI product_uuid here): reported in status facts\ninstanceUuid: "${o.instanceUuid.toLowerCase()}"\n` : ''}tls:
  cert: ${JOIN_FILES.cert}
  key: ${JOIN_FILES.key}
  ca: ${JOIN_FILES.ca}
`;
}

export async function join(o: JoinOptions): Promise<{ node: string; group: string; files: string[] }> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  let url: URL;
  try {
    url = new URL(o.controller);
  } catch {
    throw new NwError('NW_USAGE', `--controller must be an https:// URL, got '${o.controller}'`);
  }
  if (url.protocol !== 'https:') throw new NwError('NW_USAGE', `--controller must be an https:// URL, got '${o.controller}'`);
  if (!/^sha256:[0-9a-f]{64}$/.test(o.caCertHash)) throw new NwError('NW_USAGE', `--ca-cert-hash must be sha256:<64 hex>, got '${o.caCertHash}'`);
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(o.listen);
  if (!m) throw new NwError('NW_USAGE', `--listen must be HOST:PORT, got '${o.listen}'`);
  if (o.instanceUuid !== undefined && !UUID.test(o.instanceUuid)) throw new NwError('NW_USAGE', `--instance-uuid must be the Nova server id (a UUID), got '${o.instanceUuid}'`);
  const configOut = path.resolve(o.configOut);
  const dir = path.dirname(configOut);
  const targets = [configOut, ...Object.values(JOIN_FILES).map((f) => path.join(dir, f))];
  const present = targets.filter((f) => existsSync(f));
  if (present.length) throw new NwError('NW_EXISTS', `${present.join(', ')} already exist: this worker looks enrolled; remove them to join again`);

  const ca = await fetchPinnedCa(url, o.caCertHash, timeoutMs);
  const host = m[1].replace(/^\[|\]$/g, '');
  const { keyPem, csrPem } = await (await pki()).createKeyAndCsr({ commonName: o.name, ...(isIP(host) && host !== '0.0.0.0' && host !== '::' ? { ipAddresses: [host] } : {}) });
  const r = await postJson(new URL('/v1/join', url), ca, { token: o.token, name: o.name, csr: csrPem, listen: o.listen, facts: workerFacts(o.instanceUuid) }, timeoutMs);
  if (r.status !== 200) {
    const code = (typeof r.json?.code === 'string' && /^NW_[A-Z_]+$/.test(r.json.code) ? r.json.code : 'NW_PUSH') as ErrorCode;
    throw new NwError(code, `the controller refused the join (${r.status}): ${r.json?.message ?? 'no reason given'}`);
  }
  const { cert, signingPublicKey, group, node } = r.json as { cert: string; signingPublicKey: string; group: string; node: string };
  const fs = new RootedFs('/');
  await fs.mkdirp(dir, 0o755);
  // The key first and the config last: a crash in between leaves no agent.yaml pointing at missing files.
  const files: [string, string, number][] = [
    [path.join(dir, JOIN_FILES.key), keyPem, 0o600],
    [path.join(dir, JOIN_FILES.cert), cert, 0o644],
    [path.join(dir, JOIN_FILES.ca), ca, 0o644],
    [path.join(dir, JOIN_FILES.publicKey), signingPublicKey, 0o644],
    [configOut, agentYaml({ listen: o.listen, node, nodeGroup: group, controller: url.origin, instanceUuid: o.instanceUuid }), 0o600],
  ];
  for (const [f, text, mode] of files) await fs.writeAtomic(f, text, { mode, backup: false });
  return { node, group, files: files.map(([f]) => f) };
}

export function registerJoinCommand(program: Command): void {
  program
    .command('join')
    .description('enroll this worker with a controller (one-time token, pinned CA hash) and write agent.yaml')
    .requiredOption('--controller <url>', 'controller URL, e.g. https://10.0.0.2:7700')
    .option('--token-file <file>', 'file holding the one-time join token from `nodewright nodes join-token` (or set NODEWRIGHT_JOIN_TOKEN)')
    .option('--token <token>', 'the join token on the command line: visible to every user in `ps`; prefer --token-file or NODEWRIGHT_JOIN_TOKEN')
    .requiredOption('--ca-cert-hash <sha256:hex>', 'pin of the fleet CA from `nodewright nodes join-token`')
    .option('--config-out <path>', 'agent.yaml to write (its files go next to it)', '/etc/nodewright/agent.yaml')
    .option('--listen <host:port>', 'address the agent will listen on (the controller reaches it there)', '0.0.0.0:7701')
    .option('--name <node>', 'node name (default: the hostname)')
    .option('--instance-uuid <uuid>', 'the Nova server id, for hosts without /sys/class/dmi/id/product_uuid (sent with the join, written to agent.yaml)')
    .option('--json', 'print JSON')
    .action(async (o: { controller: string; token?: string; tokenFile?: string; caCertHash: string; configOut: string; listen: string; name?: string; instanceUuid?: string; json?: boolean }) => {
      const r = await join({ ...o, token: joinTokenFrom(o), name: o.name ?? os.hostname() });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : `joined as ${r.node} (group ${r.group}); wrote ${r.files.join(', ')}\nstart the agent: nodewright-agent run --config ${o.configOut}\n`);
    });
}
