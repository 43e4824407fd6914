// `nodewright init --dir D [--listen ADDR ...] [--state-dir S] [--store sqlite|postgres://…]
// [--store-password-file F] [--san NAME|IP ...]`: everything a new controller needs, made once: the
// bundle-signing key pair, the fleet CA, the controller's certificate (TLS server and client of the
// agents, covering every --listen address and --san), an operator client certificate, and commented
// controller.yaml and operator.yaml. With a PostgreSQL store, several controllers of one fleet share
// D. Refuses (NW_EXISTS) when any of the files is already there; writes nothing then.
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

export const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

/** Names the controller certificate must carry for clients reaching it at any of `hosts` or `sans`. */
export function serverNames(hosts: string[], sans: string[] = []): { dnsNames: string[]; ipAddresses: string[] } {
  const ips = new Set<string>();
  const dns = new Set<string>(['localhost']);
  for (const host of hosts) {
    if (isWildcard(host)) {
      ips.add('127.0.0.1');
      for (const a of Object.values(os.networkInterfaces()).flat()) if (a && !a.internal && a.family === 'IPv4') ips.add(a.address);
      dns.add(os.hostname());
    } else if (isIP(host)) {
      ips.add(host);
      dns.add(os.hostname());
    } else dns.add(host);
  }
  for (const san of sans) (isIP(san) ? ips : dns).add(san);
  return { dnsNames: [...dns].filter((d) => DNS_NAME.test(d)), ipAddresses: [...ips] };
}

const DNS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** A --san: an IP address or a DNS name (no wildcards: every member is named). */
export function parseSan(s: string): string {
  const v = s.trim().replace(/^\[|\]$/g, '');
  if (isIP(v) || (DNS_NAME.test(v) && !v.includes('..'))) return v;
  throw new NwError('NW_USAGE', `--san '${s}' is neither an IP address nor a DNS name: give the name or address clients reach a controller at, once per --san`);
}

export type InitStore = { kind: 'sqlite' } | { kind: 'postgres'; url: string; passwordFile: string | null };

/** --store and --store-password-file: the password is never on argv (it would show in `ps`). */
export function parseInitStore(store: string | undefined, passwordFile: string | undefined): InitStore {
  if (store === undefined || store === 'sqlite') {
    if (passwordFile !== undefined) throw new NwError('NW_USAGE', '--store-password-file is for --store postgres://USER@HOST:PORT/DB; drop it for the SQLite store');
    return { kind: 'sqlite' };
  }
  let url: URL;
  try {
    url = new URL(store);
  } catch {
    throw new NwError('NW_USAGE', `--store '${redactUrl(store)}' is not a URL: give sqlite or postgres://USER@HOST:PORT/DATABASE`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new NwError('NW_USAGE', `--store must be sqlite or postgres://USER@HOST:PORT/DATABASE, got '${redactUrl(store)}'`);
  if (url.password) {
    throw new NwError('NW_USAGE', '--store carries a password: never put it on the command line (it shows in `ps` and shell history); write it to a file (0600) named by --store-password-file, or set PGPASSWORD in the controller\'s environment, and give the URL as postgres://USER@HOST:PORT/DATABASE');
  }
  if (/\s/.test(store)) throw new NwError('NW_USAGE', `--store '${store}' contains white space: give postgres://USER@HOST:PORT/DATABASE`);
  return { kind: 'postgres', url: store, passwordFile: passwordFile === undefined ? null : path.resolve(passwordFile) };
}

/** The URL with any password replaced, for messages. */
const redactUrl = (s: string) => s.replace(/(\/\/[^:/@\s]*):[^@/\s]*@/, '$1:***@');

const storeYaml = (store: InitStore) =>
  store.kind === 'sqlite'
    ? ''
    : `# PostgreSQL: the HA mode; every controller of the fleet runs with this file and this database.
# The password: storePasswordFile (0600) or PGPASSWORD in the service's environment, never the URL.
store: ${JSON.stringify(store.url)}
${store.passwordFile ? `storePasswordFile: ${JSON.stringify(store.passwordFile)}\n` : ''}`;

export function controllerYaml(o: { listen: string; stateDir: string; url: string; store?: InitStore }): string {
  const store = o.store ?? { kind: 'sqlite' };
  return `# nodewright controller (nodewright controller run --config controller.yaml); docs/controller.md.
# Relative paths are relative to this file's directory.
listen: "${o.listen}"
# URL the agents and operators reach this controller at.
url: "${o.url}"
${storeYaml(store)}# ${store.kind === 'sqlite' ? 'SQLite store (controller.db) and artifacts.' : 'This controller\'s local state (nothing shared lives here).'}
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

const controllerLine = (urls: string[]) =>
  urls.length === 1
    ? `controller: "${urls[0]}"\n`
    : `# Several controllers (HA): the CLI uses the first that answers and follows a follower's redirect to the leader.
controller:
${urls.map((u) => `  - "${u}"\n`).join('')}`;

export const operatorYaml = (o: { url: string | string[] }) => `# nodewright operator credential: --operator-config FILE, $NODEWRIGHT_OPERATOR_CONFIG, or
# ~/.config/nodewright/operator.yaml. Relative paths are relative to this file's directory.
${controllerLine(typeof o.url === 'string' ? [o.url] : o.url)}ca: ca.crt
cert: operator.crt
key: operator.key
`;

export interface InitOptions {
  dir: string;
  /** One address or several (the first is controller.yaml's listen; the certificate covers all). */
  listen?: string | string[];
  stateDir?: string;
  /** `sqlite` (default) or postgres://USER@HOST:PORT/DB (no password). */
  store?: string;
  storePasswordFile?: string;
  /** More names or addresses the server certificate covers (other controllers, a load balancer). */
  san?: string[];
  operatorName?: string;
}

export async function initController(o: InitOptions): Promise<InitResult> {
  const dir = path.resolve(o.dir);
  const listenSpecs = o.listen === undefined || (Array.isArray(o.listen) && o.listen.length === 0) ? [DEFAULT_LISTEN] : typeof o.listen === 'string' ? [o.listen] : o.listen;
  const listens = listenSpecs.map(splitListen);
  const store = parseInitStore(o.store, o.storePasswordFile);
  const sans = (o.san ?? []).map(parseSan);
  const present = INIT_FILES.filter((f) => existsSync(path.join(dir, f)));
  if (present.length) throw new NwError('NW_EXISTS', `${dir} already holds ${present.join(', ')}: refusing to overwrite a controller's keys; use another --dir`);
  const urls = [...new Set(listens.map((l) => urlOf({ host: isWildcard(l.host) ? os.hostname() : l.host, port: l.port })))];
  const url = urls[0];

  const signing = generateSigningKeys();
  const ca = await createCa({ commonName: `nodewright fleet CA (${os.hostname()})` });
  const names = serverNames(listens.map((l) => l.host), sans);
  const server = await createKeyAndCsr({ commonName: 'controller', ...names });
  const serverCert = await signCsr({ ca, csrPem: server.csrPem, role: 'controller', name: 'controller', ...names });
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
    ['controller.yaml', controllerYaml({ listen: listenSpecs[0], stateDir, url, store }), 0o600],
    ['operator.yaml', operatorYaml({ url: urls }), 0o600],
  ];
  const fs = new RootedFs('/');
  await fs.mkdirp(dir, 0o700);
  for (const [name, text, mode] of files) await fs.writeAtomic(path.join(dir, name), text, { mode, backup: false });
  return { dir, url, caCertHash: caCertHash(ca.certPem), files: files.map(([n]) => path.join(dir, n)) };
}

const collect = (v: string, all: string[]) => [...all, v];

export function registerInitCommands(program: Command): void {
  program
    .command('init')
    .description('create the controller: signing keys, fleet CA, controller and operator certificates, controller.yaml and operator.yaml')
    .requiredOption('--dir <dir>', 'directory for the files (created 0700)')
    .option('--listen <host:port>', `address the controller listens on (default ${DEFAULT_LISTEN}); repeat for more controllers of the fleet (the certificate covers each; the first goes to controller.yaml)`, collect, [])
    .option('--state-dir <dir>', 'store directory (relative: to --dir)', './state')
    .option('--store <store>', 'sqlite (one controller) or postgres://USER@HOST:PORT/DATABASE (HA; no password in the URL)', 'sqlite')
    .option('--store-password-file <file>', 'file holding the PostgreSQL password (0600); or PGPASSWORD in the controller\'s environment')
    .option('--san <name|ip>', 'another DNS name or IP address the controller certificate covers (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; listen: string[]; stateDir: string; store: string; storePasswordFile?: string; san: string[]; json?: boolean }) => {
      const r = await initController({ dir: o.dir, listen: o.listen, stateDir: o.stateDir, store: o.store, ...(o.storePasswordFile !== undefined ? { storePasswordFile: o.storePasswordFile } : {}), san: o.san });
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else
        process.stdout.write(
          `controller initialised in ${r.dir}\n  start:    nodewright controller run --config ${path.join(r.dir, 'controller.yaml')}\n${o.listen.slice(1).map((l) => `  member:   nodewright controller run --config ${path.join(r.dir, 'controller.yaml')} --listen ${l}   (this directory copied to that machine)\n`).join('')}  operator: export NODEWRIGHT_OPERATOR_CONFIG=${path.join(r.dir, 'operator.yaml')}\n  CA pin:   ${r.caCertHash}\n`,
        );
    });
}
