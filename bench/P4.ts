// P4: `nodewright hosts show <ip>` wall time ÷ the python-openstackclient equivalent
// (`openstack hypervisor list --long` + `openstack server list --all-projects --host H`) on the
// same Nova lab, median of 5 each, interleaved; also Nova API calls per lookup with a warm index.
// nodewright runs as operators run it: the controller package (npm run package → dist/pkg),
// unpacked into a temp dir, its bin/nodewright (the package's own Node 24, started from the
// OpenStack commands' snapshot), with the on-disk hypervisor index warm (TTL 5 min, refreshed on a
// miss; the correctness run fills it, as an operator's first lookup does).
//   BENCH_P4_BASELINE=<controller tarball>   also time that package, interleaved (before/after)
// The dev build's esbuild bundle and unbundled dist/controller/cli.js (Node 20) are timed too, for comparison.
// Uses the lab in $NOVA_LAB_DIR when it is up, else starts a fresh one and stops it afterwards.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { type NovaLab, readLabEnv, startNovaLab, stopNovaLab } from '../lab/nova/lab.js';
import { median, report, timeIt } from './lib.js';

const RUNS = 5;
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const devBundle = path.resolve(here, '../controller/commands/openstack-cli.mjs');
const unbundled = path.resolve(here, '../controller/cli.js');

function controllerTarball(): string {
  const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  return path.join(repo, 'dist/pkg', `nodewright-controller-${version}-linux-x64.tar.gz`);
}

/** The package's bin/nodewright, unpacked from its tarball under `dir`. */
function unpack(tarball: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  return path.join(dir, path.basename(tarball, '.tar.gz'), 'bin/nodewright');
}

export async function run(): Promise<void> {
  if (!existsSync(controllerTarball())) throw new Error(`${controllerTarball()} is missing: run npm run package`);
  if (!existsSync(devBundle)) throw new Error(`${devBundle} is missing: run npm run build (it bundles the OpenStack commands)`);
  if (!existsSync('/usr/bin/openstack')) throw new Error('python3-openstackclient is missing: run sudo bash lab/install-deps.sh');
  const reuse = process.env.NOVA_LAB_DIR && existsSync(path.join(process.env.NOVA_LAB_DIR, 'lab.env'));
  const lab: NovaLab = reuse ? readLabEnv(process.env.NOVA_LAB_DIR!) : await startNovaLab();
  try {
    await measure(lab);
  } finally {
    if (lab.owned) await stopNovaLab(lab.dir);
  }
}

async function measure(lab: NovaLab): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-p4-'));
  try {
    await measureIn(dir, lab);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureIn(dir: string, lab: NovaLab): Promise<void> {
  writeFileSync(
    path.join(dir, 'clouds.yaml'),
    `clouds:\n  lab:\n    auth_type: admin_token\n    auth: {endpoint: "${lab.endpoint}", token: "${lab.adminToken}"}\n`,
    { mode: 0o600 },
  );
  const cli = unpack(controllerTarball(), path.join(dir, 'pkg'));
  const baselineTarball = process.env.BENCH_P4_BASELINE;
  const baseline = baselineTarball ? unpack(path.resolve(baselineTarball), path.join(dir, 'baseline')) : undefined;
  const pkgNode = path.resolve(path.dirname(cli), '../node/bin/node');
  const env = { OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), OS_CLOUD: 'lab', XDG_CACHE_HOME: path.join(dir, 'cache') };
  const host = Object.keys(lab.computes).sort()[1];
  const ip = lab.computes[host];
  const run = (bin: string, args: string[], extra: Record<string, string> = {}) => execa(bin, args, { env: { ...env, ...extra }, timeout: 120_000 });
  const nw = (extra: Record<string, string> = {}) => run(cli, ['hosts', 'show', ip], extra);
  // the floor: the one Nova request a warm lookup makes, timed in-process (no CLI start-up)
  const rawGet = () =>
    fetch(`${lab.endpoint}/servers/detail?all_tenants=1&host=${encodeURIComponent(host)}`, { headers: { 'X-Auth-Token': lab.adminToken } }).then((r) => r.text());
  const osc = (args: string[]) => execa('openstack', args, { env, timeout: 120_000 });

  // correctness first: both must name the same servers (this run also warms the index and the compile cache)
  const first = await nw({ NODEWRIGHT_TRACE_API_CALLS: '1' });
  const coldCalls = Number(/openstack api calls: (\d+)/.exec(first.stderr)?.[1]);
  const hyp = await osc(['hypervisor', 'list', '--long', '-f', 'json']);
  const srv = await osc(['server', 'list', '--all-projects', '--host', host, '-f', 'json']);
  if (!hyp.stdout.includes(ip)) throw new Error(`openstack hypervisor list --long did not show ${ip}`);
  const names = (JSON.parse(srv.stdout) as Array<{ Name: string }>).map((s) => s.Name).sort();
  for (const n of names) if (!first.stdout.includes(n)) throw new Error(`nodewright hosts show ${ip} is missing ${n}`);
  if (baseline) {
    const b = await run(baseline, ['hosts', 'show', ip]);
    if (b.stdout !== first.stdout) throw new Error(`the baseline package's hosts show ${ip} printed something else:\n${b.stdout}\n---\n${first.stdout}`);
  }

  const tNw: number[] = [];
  const tNwCold: number[] = [];
  const tBase: number[] = [];
  const tDev: number[] = [];
  const tNwUnbundled: number[] = [];
  const tOsc: number[] = [];
  const tRaw: number[] = [];
  const tNode: number[] = [];
  const warmCalls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [t, r] = await timeIt(() => nw({ NODEWRIGHT_TRACE_API_CALLS: '1' }));
    tNw.push(t);
    warmCalls.push(Number(/openstack api calls: (\d+)/.exec(r.stderr)?.[1]));
    if (baseline) tBase.push((await timeIt(() => run(baseline, ['hosts', 'show', ip])))[0]);
    tNwCold.push((await timeIt(() => run(cli, ['hosts', 'show', ip, '--no-cache'])))[0]);
    tDev.push((await timeIt(() => run('node', [devBundle, 'hosts', 'show', ip])))[0]);
    tNwUnbundled.push((await timeIt(() => run('node', [unbundled, 'hosts', 'show', ip])))[0]);
    tRaw.push((await timeIt(rawGet))[0]);
    tNode.push((await timeIt(() => execa(pkgNode, ['-e', '0'])))[0]);
    const [a] = await timeIt(() => osc(['hypervisor', 'list', '--long']));
    const [b] = await timeIt(() => osc(['server', 'list', '--all-projects', '--host', host]));
    tOsc.push(a + b);
  }
  const ms = (xs: number[]) => `median ${median(xs).toFixed(0)} ms  runs ${xs.map((x) => x.toFixed(0)).join(' ')}`;
  const ratioOf = (xs: number[]) => median(xs) / median(tOsc);
  const ratio = ratioOf(tNw);
  const calls = Math.max(...warmCalls);
  console.log(`packaged nodewright hosts show ${ip} (warm index): ${ms(tNw)} (ratio ${ratio.toFixed(3)})`);
  if (baseline) console.log(`baseline package ${path.basename(baselineTarball!)} hosts show ${ip} (warm index): ${ms(tBase)} (ratio ${ratioOf(tBase).toFixed(3)})`);
  console.log(`packaged nodewright hosts show ${ip} --no-cache: ${ms(tNwCold)}  (cold lookup: ${coldCalls} API calls incl. version document)`);
  console.log(`dev build's bundle (node ${process.version}) hosts show ${ip}: ${ms(tDev)} (ratio ${ratioOf(tDev).toFixed(3)})`);
  console.log(`unbundled dist/controller/cli.js hosts show ${ip}: ${ms(tNwUnbundled)} (ratio ${ratioOf(tNwUnbundled).toFixed(3)})`);
  console.log(`openstack hypervisor list --long + server list --all-projects --host ${host}: ${ms(tOsc)}`);
  console.log(`the one Nova request of a warm lookup, in-process: ${ms(tRaw)} (the server's share)`);
  console.log(`the package's node -e 0 start-up on this machine now: ${ms(tNode)}; floor (start-up + request) ÷ openstackclient = ${((median(tNode) + median(tRaw)) / median(tOsc)).toFixed(3)}`);
  console.log(`P4 api_calls_per_lookup=${calls} calls (target <= 2) ${calls <= 2 ? 'PASS' : 'MISS'}`);
  report({
    id: 'P4',
    metric: 'hosts_show_time_ratio',
    value: ratio,
    unit: 'x',
    op: '<=',
    target: 0.1,
    extra: {
      nodewrightMedianMs: median(tNw),
      nodewrightRunsMs: tNw,
      ...(baseline ? { baseline: path.basename(baselineTarball!), baselineMedianMs: median(tBase), baselineRunsMs: tBase, baselineRatio: ratioOf(tBase) } : {}),
      nodewrightColdMedianMs: median(tNwCold),
      devBundleMedianMs: median(tDev),
      unbundledMedianMs: median(tNwUnbundled),
      unbundledRatio: ratioOf(tNwUnbundled),
      openstackclientMedianMs: median(tOsc),
      openstackclientRunsMs: tOsc,
      coldRatio: ratioOf(tNwCold),
      novaRequestMedianMs: median(tRaw),
      apiCallsPerWarmLookup: calls,
      apiCallsCold: coldCalls,
      nodeStartupMs: median(tNode),
      loadAverage: os.loadavg(),
      runs: RUNS,
    },
  });
}
