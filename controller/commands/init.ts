// `nodewright init --dir D [--listen ADDR] [--state-dir S]`: everything a new controller needs,
// made once: the bundle-signing key pair, the fleet CA, the controller's certificate (TLS server
// and client of the agents), an operator client certificate, and commented controller.yaml and
// operator.yaml. Refuses (NW_EXISTS) when any of the files is already there; writes nothing then.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { RootedFs } from '../../host/fs.js';
import { caCertHash, createCa, createKeyAndCsr, signCsr } from '../../pki/index.js';
import { generateSigningKeys } from '../../protocol/bundle.js';
import { DEFAULT_LISTEN, splitListen, urlOf } from '../config.js';

export const INIT_FILES = ['controller.yaml', 'operator.yaml', 'ca.crt', 'ca.key', 'controller.crt', 'controller.key', 'operator.crt', 'operator.key', 'signing.key', 'signing.pub'] as const;

export interface InitResult {
  dir: string;
  url: string;
  caCertHash: string;
  files: string[];
}

/** Names the controller certificate must carry for clients reaching it at `host`. */
function serverNames(host: string): { dnsNames: string[]; ipAddresses: string[] } {
  const wildcard = host === '0.0.0.0' || host === '::';
  const ips = new Set<string>(wildcard ? ['127.0.0.1', ...Object.values(os.networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address)] : isIP(host) ? [host] : []);
  const dns = new Set<string>(isIP(host) || wildcard ? [os.hostname(), 'localhost'] : [host, 'localhost']);
  return { dnsNames: [...dns].filter((d) => /^[A-Za-z0-9.-]+$/.test(d)), ipAddresses: [...ips] };
}

export function controllerYaml(o: { listen: string; stateDir: string; url: string }): string {
  return `# nodewright controller (nodewright controller run --config controller.yaml); docs/controller.md.
# Relative paths are relative to this file's directory.
listen: "${o.listen}"
# URL the agents and operators reach this controller at.
url: "${o.url}"
# SQLite store (controller.db) and artifacts.
stateDir: "${o.stateDir}"
# TLS server certificate (also the client certificate the controller shows agents) and the fleet CA.
tls:
  cert: controller.crt
  key: controller.key
  ca: ca.crt
# The fleet CA's key signs agent certificates at enrollment: keep it 0600.
caKeyFile: ca.key
# ed25519 key that signs desired-state bundles; agents pin signing.pub.
signingKeyFile: signing.key
# Client certificate roles allowed to use the operator API.
operator:
  roles: [operator]
poll:
  intervalSec: 10        # every node's GET /v1/status
  rolloutIntervalSec: 1  # nodes a rollout is pushing to or gating
  timeoutSec: 5
  concurrency: 256
log:
  level: info
`;
}

export const operatorYaml = (o: { url: string }) => `# nodewright operator credential: --operator-config FILE, $NODEWRIGHT_OPERATOR_CONFIG, or
# ~/.config/nodewright/operator.yaml. Relative paths are relative to this file's directory.
controller: "${o.url}"
ca: ca.crt
cert: operator.crt
key: operator.key
`;

export async function initController(o: { dir: string; listen?: string; stateDir?: string; operatorName?: string }): Promise<InitResult> {
  const dir = path.resolve(o.dir);
  const listenSpec = o.listen ?? DEFAULT_LISTEN;
  const listen = splitListen(listenSpec);
  const present = INIT_FILES.filter((f) => existsSync(path.join(dir, f)));
  if (present.length) throw new NwError('NW_EXISTS', `${dir} already holds ${present.join(', ')}: refusing to overwrite a controller's keys; use another --dir`);
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? os.hostname() : listen.host;
  const url = urlOf({ host, port: listen.port });

  const signing = generateSigningKeys();
  const ca = await createCa({ commonName: `nodewright fleet CA (${os.hostname()})` });
  const server = await createKeyAndCsr({ commonName: 'controller', ...serverNames(listen.host) });
  const serverCert = await signCsr({ ca, csrPem: server.csrPem, role: 'controller', name: 'controller', ...serverNames(listen.host) });
  const opName = o.operatorName ?? 'operator';
  const op = await createKeyAndCsr({ commonName: opName });
  const opCert = await signCsr({ ca, csrPem: op.csrPem, role: 'operator', name: opName });

  const stateDir = o.stateDir ?? './state';
  const files: [string, string, number][] = [
    ['signing.key', signing.privateKeyPem, 0o600],
    ['signing.pub', signing.publicKeyPem, 0o644],
    ['ca.key', ca.keyPem, 0o600],
    ['ca.crt', ca.certPem, 0o644],
    ['controller.key', server.keyPem, 0o600],
    ['controller.crt', serverCert.certPem, 0o644],
    ['operator.key', op.keyPem, 0o600],
    ['operator.crt', opCert.certPem, 0o644],
    ['controller.yaml', controllerYaml({ listen: listenSpec, stateDir, url }), 0o600],
    ['operator.yaml', operatorYaml({ url }), 0o600],
  ];
  const fs = new RootedFs('/');
  await fs.mkdirp(dir, 0o700);
  for (const [name, text, mode] of files) await fs.writeAtomic(path.join(dir, name), text, { mode, backup: false });
  return { dir, url, caCertHash: caCertHash(ca.certPem), files: files.map(([n]) => path.join(dir, n)) };
}

export function registerInitCommands(program: Command): void {
  program
    .command('init')
    .description('create the controller: signing keys, fleet CA, controller and operator certificates, controller.yaml and operator.yaml')
    .requiredOption('--dir <dir>', 'directory for the files (created 0700)')
    .option('--listen <host:port>', 'address the controller listens on', DEFAULT_LISTEN)
    .option('--state-dir <dir>', 'store directory (relative: to --dir)', './state')
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; listen: string; stateDir: string; json?: boolean }) => {
      const r = await initController({ dir: o.dir, listen: o.listen, stateDir: o.stateDir });
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else
        process.stdout.write(
          `controller initialised in ${r.dir}\n  start:    nodewright controller run --config ${path.join(r.dir, 'controller.yaml')}\n  operator: export NODEWRIGHT_OPERATOR_CONFIG=${path.join(r.dir, 'operator.yaml')}\n  CA pin:   ${r.caCertHash}\n`,
        );
    });
}
