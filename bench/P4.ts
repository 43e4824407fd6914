// P4: `nodewright hosts show <ip>` wall time ÷ the python-openstackclient equivalent
// (`openstack hypervisor list --long` + `openstack server list --all-projects --host H`) on the
// same Nova lab, median of 5 each, interleaved; also Nova API calls per lookup with a warm index.
// nodewright runs as the esbuild bundle of the OpenStack commands (npm run build → one file, no
// module graph to resolve) with its on-disk hypervisor index warm (TTL 5 min, refreshed on a miss);
// the unbundled dist/controller/cli.js is timed too, for comparison.
// Uses the lab in $NOVA_LAB_DIR when it is up, else starts a fresh one and stops it afterwards.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { type NovaLab, readLabEnv, startNovaLab, stopNovaLab } from '../lab/nova/lab.js';
import { median, report, timeIt } from './lib.js';

const RUNS = 5;
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../controller/commands/openstack-cli.mjs');
const unbundled = path.resolve(here, '../controller/cli.js');

export async function run(): Promise<void> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (it bundles the OpenStack commands)`);
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
  const env = { OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), OS_CLOUD: 'lab', XDG_CACHE_HOME: path.join(dir, 'cache') };
  const host = Object.keys(lab.computes).sort()[1];
  const ip = lab.computes[host];
  const nw = (extra: Record<string, string> = {}) => execa('node', [cli, 'hosts', 'show', ip], { env: { ...env, ...extra }, timeout: 120_000 });
  // the floor: the one Nova request a warm lookup makes, timed in-process (no CLI start-up)
  const rawGet = () =>
    fetch(`${lab.endpoint}/servers/detail?all_tenants=1&host=${encodeURIComponent(host)}`, { headers: { 'X-Auth-Token': lab.adminToken } }).then((r) => r.text());
  const osc = (args: string[]) => execa('openstack', args, { env, timeout: 120_000 });

  // correctness first: both must name the same servers
  const first = await nw({ NODEWRIGHT_TRACE_API_CALLS: '1' }); // also warms the on-disk index
  const coldCalls = Number(/openstack api calls: (\d+)/.exec(first.stderr)?.[1]);
  const hyp = await osc(['hypervisor', 'list', '--long', '-f', 'json']);
  const srv = await osc(['server', 'list', '--all-projects', '--host', host, '-f', 'json']);
  if (!hyp.stdout.includes(ip)) throw new Error(`openstack hypervisor list --long did not show ${ip}`);
  const names = (JSON.parse(srv.stdout) as Array<{ Name: string }>).map((s) => s.Name).sort();
  for (const n of names) if (!first.stdout.includes(n)) throw new Error(`nodewright hosts show ${ip} is missing ${n}`);

  const tNw: number[] = [];
  const tNwCold: number[] = [];
  const tNwUnbundled: number[] = [];
  const tOsc: number[] = [];
  const tRaw: number[] = [];
  const warmCalls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [t, r] = await timeIt(() => nw({ NODEWRIGHT_TRACE_API_CALLS: '1' }));
    tNw.push(t);
    warmCalls.push(Number(/openstack api calls: (\d+)/.exec(r.stderr)?.[1]));
    tNwCold.push((await timeIt(() => execa('node', [cli, 'hosts', 'show', ip, '--no-cache'], { env, timeout: 120_000 })))[0]);
    tNwUnbundled.push((await timeIt(() => execa('node', [unbundled, 'hosts', 'show', ip], { env, timeout: 120_000 })))[0]);
    tRaw.push((await timeIt(rawGet))[0]);
    const [a] = await timeIt(() => osc(['hypervisor', 'list', '--long']));
    const [b] = await timeIt(() => osc(['server', 'list', '--all-projects', '--host', host]));
    tOsc.push(a + b);
  }
  const nodeStart = median(await Promise.all([0, 1, 2].map(async () => (await timeIt(() => execa('node', ['-e', '0'])))[0])));
  const ratio = median(tNw) / median(tOsc);
  const calls = Math.max(...warmCalls);
  console.log(`nodewright hosts show ${ip} (warm index): median ${median(tNw).toFixed(0)} ms  runs ${tNw.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`unbundled dist/controller/cli.js hosts show ${ip} (warm index): median ${median(tNwUnbundled).toFixed(0)} ms (ratio ${(median(tNwUnbundled) / median(tOsc)).toFixed(3)})`);
  console.log(`nodewright hosts show ${ip} --no-cache:   median ${median(tNwCold).toFixed(0)} ms  (cold lookup: ${coldCalls} API calls incl. version document)`);
  console.log(`openstack hypervisor list --long + server list --all-projects --host ${host}: median ${median(tOsc).toFixed(0)} ms  runs ${tOsc.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`the one Nova request of a warm lookup, in-process: median ${median(tRaw).toFixed(0)} ms (the server's share)`);
  console.log(`node -e 0 start-up on this machine now: ${nodeStart.toFixed(0)} ms`);
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
      nodewrightColdMedianMs: median(tNwCold),
      unbundledMedianMs: median(tNwUnbundled),
      unbundledRatio: median(tNwUnbundled) / median(tOsc),
      openstackclientMedianMs: median(tOsc),
      coldRatio: median(tNwCold) / median(tOsc),
      novaRequestMedianMs: median(tRaw),
      apiCallsPerWarmLookup: calls,
      apiCallsCold: coldCalls,
      nodeStartupMs: nodeStart,
      runs: RUNS,
    },
  });
}
