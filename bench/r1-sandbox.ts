// R1's sandbox worker: a --root tree with a seed-shaped kubelet.service, an old keyring, kubelet
// v1 installed, and a systemctl stand-in that behaves like systemd where the agent can tell:
// daemon-reload loads the unit files (effective Environment=, NeedDaemonReload from a snapshot),
// restart records which kubelet build it started, is-active fails for a BROKEN build. The agent
// runs as the real CLI process; the stand-in is found first on PATH through a private mount
// namespace (the agent's exec uses a fixed PATH whose first entry is /usr/local/sbin).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKeys, loadPrivateKey, signBundle } from '../protocol/bundle.js';
import { parseUnit } from '../systemd/unit.js';
import { parseShowEnvironment } from '../systemd/show.js';
import { versionLine, type AfterRestart, type Build, type Digest, type Snapshot, type StatusLike } from './r1-check.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
export let AGENT_CLI = path.resolve(here, '../agent/cli.js');

/**
 * Bundle dist/agent/cli.js into one file (esbuild; same code, next to it so node_modules still
 * resolves): Node start-up of the ~150-module tree is most of an apply on a loaded 2-core machine,
 * and every kill point pays it twice. R1_BUNDLE=0 runs dist/agent/cli.js as it is.
 */
export function useBundledAgent(): string {
  const out = path.join(repo, 'dist/bench/r1-agent.mjs');
  const r = spawnSync(
    path.join(repo, 'node_modules/.bin/esbuild'),
    [AGENT_CLI, '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, '--log-level=warning', `--banner:js=import { createRequire as __r1cr } from 'node:module'; const require = __r1cr(import.meta.url);`],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`esbuild of the agent failed: ${r.stdout}${r.stderr}`);
  AGENT_CLI = out;
  return out;
}
const ENV_JS = path.resolve(here, 'r1-environment.js');
const UNIT_TEMPLATE = path.resolve(here, '../../lab/worker/kubelet.service.in');

export const UNIT = '/etc/systemd/system/kubelet.service';
export const KUBELET = '/usr/local/bin/kubelet';
export const KEYRING = '/etc/ceph/ceph.client.k8s.keyring';
export const CEPH_CONF = '/etc/ceph/ceph.conf';
export const STATE = '/var/lib/nodewright/state.json';
/** Directories whose files R1 watches (worker paths). */
const MANAGED_DIRS = ['/etc/ceph', '/etc/systemd/system/kubelet.service.d', '/usr/local/bin'];
const MANAGED_FILES = [UNIT];

// One copy per trial, paths baked in (the agent runs commands with a fixed environment).
const standin = (dir: string, envCache: string) => `#!/bin/sh
# systemctl stand-in (bench/r1-sandbox.ts) for the sandbox ${dir}
set -u
R1_ROOT="${dir}/root"; S="${dir}/systemd"; U="$R1_ROOT${UNIT}"
snap() { for f in "$U" "$U.d"/*.conf; do [ -f "$f" ] && { echo "== \${f#$R1_ROOT}"; cat "$f"; }; done | sha256sum | cut -c1-64; }
cmd="$1"; shift
case "$cmd" in
  daemon-reload)
    # The effective environment of these unit files (computed once per distinct content).
    d=$(snap); c="${envCache}/$d"
    if [ ! -f "$c" ]; then node "${ENV_JS}" "$R1_ROOT" "${UNIT}" > "$c.$$" || exit 1; mv "$c.$$" "$c"; fi
    cp "$c" "$S/environment.tmp" && echo "$d" > "$S/loaded.tmp" && mv "$S/environment.tmp" "$S/environment" && mv "$S/loaded.tmp" "$S/loaded" ;;
  restart|start)
    sed -n 2p "$R1_ROOT${KUBELET}" > "$S/running.tmp" && mv "$S/running.tmp" "$S/running"
    echo x >> "$S/restarts" ;;
  is-active)
    if [ ! -s "$S/running" ] || grep -q BROKEN "$S/running"; then echo failed; exit 3; fi
    echo active ;;
  show)
    shift_unit="$1"; shift
    nr=no; [ "$(snap)" = "$(cat "$S/loaded" 2>/dev/null)" ] || nr=yes
    for p in "$@"; do
      case "$p" in
        --property=Environment) echo "Environment=$(cat "$S/environment" 2>/dev/null)" ;;
        --property=NeedDaemonReload) echo "NeedDaemonReload=$nr" ;;
        *) echo "\${p#--property=}=" ;;
      esac
    done ;;
  reset-failed|stop) ;;
  *) echo "systemctl stand-in: unsupported command $cmd" >&2; exit 1 ;;
esac
`;

const HEALTHZ = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const trials = process.argv[1];
const s = http.createServer((req, res) => {
  let running = '';
  try { running = fs.readFileSync(path.join(trials, (req.url || '').split('/')[1] || '-', 'systemd/running'), 'utf8'); } catch {}
  res.writeHead(running && !running.includes('BROKEN') ? 200 : 500).end();
});
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A kubelet stand-in build: the version line, then padding so staging and hashing take real time. */
export function kubeletBuild(version: string, broken: boolean, bytes = 256 << 10): Buffer {
  const head = Buffer.from(`#!/bin/sh\n${versionLine({ version, broken })}\nexit 0\n`);
  return Buffer.concat([head, Buffer.alloc(bytes - head.length, 0x23)]);
}

export interface R1Base {
  dir: string;
  pub: string;
  token: string;
  builds: Record<'v1' | 'v2' | 'v3', { data: Buffer; build: Build }>;
  sign: (d: unknown) => unknown;
  healthPort: number;
  close: () => Promise<void>;
}

export const OLD_KEYRING = '[client.k8s]\n\tkey = AQAAAAAAAAAAABAAoldoldoldoldoldoldoldold==\n';
export const NEW_KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';
export const OLD_CONF = '[global]\nfsid = 00000000-0000-4000-8000-000000000000\nmon host = 10.0.0.1:6789\n';

export async function makeBase(dir: string): Promise<R1Base> {
  mkdirSync(dir, { recursive: true });
  const keys = generateSigningKeys();
  const pub = path.join(dir, 'controller.pub');
  writeFileSync(pub, keys.publicKeyPem);
  const token = path.join(dir, 'token');
  writeFileSync(token, 'r1-token-' + sha256(String(Math.random())).slice(0, 24), { mode: 0o600 });
  const mk = (v: string, broken: boolean) => {
    const data = kubeletBuild(v, broken);
    return { data, build: { version: v, sha256: sha256(data), broken, preinstalled: v === 'v1' } };
  };
  const builds = { v1: mk('v1', false), v2: mk('v2', false), v3: mk('v3', true) };
  const priv = loadPrivateKey(keys.privateKeyPem);
  // The kubelet "healthz": 200 while the build systemd last started is not BROKEN (/<trial>/healthz).
  // Its own process: the campaign's synchronous file work must not delay the agent's health checks.
  const server = spawn('node', ['-e', HEALTHZ, path.join(dir, 'trials')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const healthPort = await new Promise<number>((resolve, reject) => {
    server.once('exit', (c) => reject(new Error(`the healthz stand-in exited (${c})`)));
    server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  return {
    dir,
    pub,
    token,
    builds,
    sign: (d) => signBundle(d, priv),
    healthPort,
    close: () =>
      new Promise<void>((r) => {
        if (server.exitCode !== null) return r();
        server.once('exit', () => r());
        server.kill('SIGTERM');
      }),
  };
}

/** Desired state of the swap scenario: new keyring + ceph.conf, the keyring bind mount, kubelet `v`. */
export function desired(base: R1Base, generation: number, v: 'v2' | 'v3') {
  const b = base.builds[v];
  return {
    schema: 1,
    generation,
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: NEW_KEYRING },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING, target: KEYRING, readOnly: true }] },
    kubelet: { kind: 'binary', version: v, sha256: b.build.sha256, size: b.data.length, url: `/srv/kubelet-${v}` },
  };
}

/** The worker before the swap: old keyring and ceph.conf, the lab's kubelet.service, kubelet v1 running. */
export function makeSwapTemplate(base: R1Base, dir: string): void {
  const root = path.join(dir, 'root');
  const put = (p: string, data: string | Buffer, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), data, { mode });
  };
  put(UNIT, readFileSync(UNIT_TEMPLATE, 'utf8').replace('@KUBELET_PORT@', '10248'));
  put(KEYRING, OLD_KEYRING, 0o600);
  put(CEPH_CONF, OLD_CONF);
  put(KUBELET, base.builds.v1.data, 0o755);
  for (const v of ['v1', 'v2', 'v3'] as const) put(`/srv/kubelet-${v}`, base.builds[v].data, 0o644);
  mkdirSync(path.join(dir, 'systemd'), { recursive: true });
  installStandin(base, dir);
  // PID 1 has loaded the unit and started v1.
  const env = runStandin(dir, ['daemon-reload']);
  if (env.status !== 0) throw new Error(`systemctl stand-in daemon-reload failed: ${env.stderr}`);
  runStandin(dir, ['restart', 'kubelet.service']);
}

/** (Re)write the sandbox's stand-in: a copied tree gets one naming its own paths. */
export function installStandin(base: Pick<R1Base, 'dir'>, dir: string): void {
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  mkdirSync(path.join(base.dir, 'envcache'), { recursive: true });
  writeFileSync(path.join(dir, 'bin/systemctl'), standin(dir, path.join(base.dir, 'envcache')), { mode: 0o755 });
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NODE_OPTIONS: '' };

export function runStandin(dir: string, args: string[]) {
  return spawnSync(path.join(dir, 'bin/systemctl'), args, { env: ENV, encoding: 'utf8', timeout: 30_000 });
}

export function writeTrialConfig(base: R1Base, dir: string, trial: string): string {
  installStandin(base, dir);
  const config = path.join(dir, 'agent.yaml');
  writeFileSync(
    config,
    [
      `listen: 127.0.0.1:1`,
      `tokenFile: ${base.token}`,
      `publicKeyFile: ${base.pub}`,
      `root: ${path.join(dir, 'root')}`,
      `stateDir: /var/lib/nodewright`,
      `kubelet:`,
      `  healthUrl: http://127.0.0.1:${base.healthPort}/${trial}/healthz`,
      `  healthTimeoutSec: 2`,
      `  minHealthySec: 0.3`,
      `probes:`,
      `  enabled: false`,
      `log:`,
      `  level: warn`,
      ``,
    ].join('\n'),
  );
  return config;
}

export interface ApplyRun {
  exitCode: number | null;
  signal: string | null;
  killed: boolean;
  stdout: string;
  stderr: string;
  ms: number;
  /** Epoch ms at spawn. */
  startedAt: number;
}

/**
 * `nodewright-agent apply --json` as a real process in a private mount namespace whose
 * /usr/local/sbin holds the systemctl stand-in; SIGKILL after `killAfterMs` if still running.
 */
export function runApply(dir: string, bundleFile: string, killAfterMs?: number): Promise<ApplyRun> {
  const config = path.join(dir, 'agent.yaml');
  const script = `mount --bind "$0" /usr/local/sbin && exec node "$1" apply --config "$2" --bundle "$3" --json`;
  const t0 = performance.now();
  const startedAt = Date.now();
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, path.join(dir, 'bin'), AGENT_CLI, config, bundleFile], {
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  let killed = false;
  const timer =
    killAfterMs === undefined
      ? null
      : setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) killed = child.kill('SIGKILL');
        }, killAfterMs);
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      resolve({ exitCode: code, signal, killed: killed && signal === 'SIGKILL', stdout, stderr, ms: performance.now() - t0, startedAt });
    });
  });
}

function digestOf(file: string): Digest {
  try {
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}

/** Managed files, unit parse results, state.json, leftovers — as found on disk now. */
export function snapshot(dir: string): Snapshot & { inflight: { step?: string; kind?: string; phase?: string } | null } {
  return snapshotRoot(path.join(dir, 'root'));
}

/** Which files of a managed directory R1 watches (a real worker's /usr/local/bin holds much else). */
export type Watch = (dir: string, name: string) => boolean;

/**
 * The same for any worker root (a sandbox's, or a container's /proc/<pid>/root): files of
 * MANAGED_DIRS that `watch` selects, dot files there as leftovers, the unit files, state.json.
 */
export function snapshotRoot(root: string, watch: Watch = () => true): Snapshot & { inflight: { step?: string; kind?: string; phase?: string } | null; reconciles: number | null } {
  const files: Record<string, Digest> = {};
  const leftovers: string[] = [];
  for (const d of MANAGED_DIRS) {
    if (!existsSync(path.join(root, d))) continue;
    for (const n of readdirSync(path.join(root, d))) {
      const p = path.posix.join(d, n);
      if (n.startsWith('.')) leftovers.push(p);
      else if (watch(d, n)) files[p] = digestOf(path.join(root, p));
    }
  }
  for (const p of MANAGED_FILES) files[p] = digestOf(path.join(root, p));
  const unitErrors: Record<string, string> = {};
  for (const p of Object.keys(files).filter((x) => x === UNIT || x.startsWith(`${UNIT}.d/`))) {
    if (files[p] === null) continue;
    try {
      parseUnit(readFileSync(path.join(root, p), 'utf8'), p);
    } catch (e) {
      unitErrors[p] = (e as Error).message;
    }
  }
  let stateError: string | null = null;
  let inflight: { step?: string; kind?: string; phase?: string } | null = null;
  let reconciles: number | null = null;
  const sf = path.join(root, STATE);
  if (existsSync(sf)) {
    try {
      const st = JSON.parse(readFileSync(sf, 'utf8')) as { inflight: typeof inflight; reconciles?: number };
      inflight = st.inflight ?? null;
      reconciles = st.reconciles ?? null;
    } catch (e) {
      stateError = `does not parse (${(e as Error).message})`;
    }
  }
  return { files, unitErrors, stateError, leftovers, inflight, reconciles };
}

/** Everything R1 judges after the restarted agent finished. */
export function afterRestart(dir: string, run: ApplyRun): AfterRestart {
  const s = snapshot(dir);
  const show = runStandin(dir, ['show', 'kubelet.service', '--property=Environment', '--property=NeedDaemonReload']);
  const nr = /^NeedDaemonReload=(yes|no)$/m.exec(show.stdout)?.[1];
  let rkt: string | null = null;
  try {
    rkt = parseShowEnvironment(show.stdout).RKT_RUN_ARGS ?? null;
  } catch {}
  let running: string | null = null;
  try {
    running = readFileSync(path.join(dir, 'systemd/running'), 'utf8').trim();
  } catch {}
  let status: StatusLike | null = null;
  try {
    status = JSON.parse(run.stdout) as StatusLike;
  } catch {}
  return {
    ...s,
    needDaemonReload: nr === undefined ? null : nr === 'yes',
    rktRunArgs: rkt,
    running,
    exitCode: run.exitCode,
    status,
    state: s.stateError ? null : { inflight: s.inflight },
  };
}

export const copyTree = (from: string, to: string) => cpSync(from, to, { recursive: true, preserveTimestamps: true });
