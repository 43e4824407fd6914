// P5: how much a rollout adds to its health gates. The controller lab of the e2e tests
// (test/e2e/controller/setup.ts, reused as is: the real controller daemon, three real systemd
// worker containers with enrolled agents, 1 s fleet poll) runs keyring + unit + kubelet v2 with
// steps [1, 2] and minHealthy 10 s. From the rollout's own events: wall = created → completed;
// a node's gate = it entering `gating` (push accepted) → `healthy`; a wave's gate time = the union
// of its nodes' gates (maxUnavailable 1 gates them one after another: the steps between count as
// overhead). overhead = wall ÷ Σ wave gate times − 1; target ≤ 5 %. The breakdown shows where the rest went (pushes,
// the steps between waves) and how much of each gate was reconcile + observation beyond minHealthy.
// Needs root and systemd-nspawn (lab/install-deps.sh), like the e2e tests. BENCH_P5_MIN_HEALTHY_S.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importBundled } from './bundle-ts.js';
import { report } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const MIN_HEALTHY_S = Number(process.env.BENCH_P5_MIN_HEALTHY_S ?? 10);

interface Lab { share: string; operatorConfig: string; workers: { node: string }[] }
interface Event { at: string; kind: string; subject: string; data?: { rollout?: string } }
type LabSetup = { default: (p: { provide: (k: string, v: unknown) => void }) => Promise<() => Promise<void>>; nodewright: (cfg: string, args: string[]) => string };

/** The e2e lab's globalSetup, compiled from its TypeScript source (test/ is not part of dist/). */
const loadLabSetup = (out: string) => importBundled<LabSetup>(path.join(repo, 'test/e2e/controller/setup.ts'), out);

const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('P5 brings up the controller lab (systemd-nspawn): run it as root');
  // the lab's code runs from a temporary bundle: it finds the repository from the working directory
  process.chdir(repo);
  const tmp = mkdtempSync(path.join(tmpdir(), 'nw-p5-'));
  const setup = await loadLabSetup(path.join(tmp, 'lab-setup.mjs'));
  let lab: Lab | null = null;
  const t0 = Date.now();
  const teardown = await setup.default({ provide: (_k, v) => (lab = v as Lab) });
  let ok = false;
  try {
    const l = lab as Lab | null;
    if (!l) throw new Error('the controller lab provided nothing');
    const nwJson = (...args: string[]) => JSON.parse(setup.nodewright(l.operatorConfig, [...args, '--json']));
    for (let i = 0; !nwJson('nodes', 'ls').every((n: { state: string }) => n.state === 'healthy'); i++) {
      if (i > 300) throw new Error(`the lab's nodes are not all healthy: ${JSON.stringify(nwJson('nodes', 'ls'))}`);
      await sleep(200);
    }
    nwJson('artifact', 'add', path.join(l.share, 'kubelets', 'kubelet-v2'), '--kind', 'kubelet-binary', '--version', 'v2');
    writeFileSync(path.join(tmp, 'keyring'), '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n', { mode: 0o600 });
    const desired = path.join(tmp, 'desired.yaml');
    writeFileSync(desired, [
      'runtime: rkt',
      'packages: {policy: auto}',
      'ceph: {fsid: 0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11, monHost: ["127.0.0.1:3300"], clientId: k8s, keyringFile: keyring}',
      'unit: {bindMounts: [{name: ceph-keyring, source: /etc/ceph/ceph.client.k8s.keyring, target: /etc/ceph/ceph.client.k8s.keyring}]}',
      'kubelet: {kind: binary, version: v2}',
      '',
    ].join('\n'));
    const r = nwJson('rollout', 'start', '--group', 'lab', '--desired', desired, '--steps', '1,2', '--min-healthy', `${MIN_HEALTHY_S}s`, '--gate-timeout', '120s');
    let s: { state: string; reason?: string; nodes: { name: string; wave: number }[] };
    for (;;) {
      s = nwJson('rollout', 'status', r.id);
      if (s.state === 'completed') break;
      if (!['running', 'waiting'].includes(s.state)) throw new Error(`rollout ${r.id} is ${s.state}: ${s.reason}`);
      await sleep(500);
    }
    const events = (setup.nodewright(l.operatorConfig, ['events', '--json']).trim().split('\n').map((x) => JSON.parse(x)) as Event[])
      .filter((e) => e.data?.rollout === r.id || e.subject === r.id);
    const at = (kind: string, subject: string) => events.find((e) => e.kind === kind && e.subject === subject)?.at;
    const created = at('rollout.created', r.id)!;
    const completed = at('rollout.completed', r.id)!;
    const wall = ms(created, completed);
    const waves = [...new Set(s.nodes.map((n) => n.wave))].sort((a, b) => a - b);
    let gates = 0;
    let lastEnd = created;
    const lines: string[] = [];
    for (const w of waves) {
      const names = s.nodes.filter((n) => n.wave === w).map((n) => n.name);
      const pushing = names.map((n) => at('rollout.node.pushing', n)!).sort()[0];
      const spans = names.map((n) => [Date.parse(at('rollout.node.gating', n)!), Date.parse(at('rollout.node.healthy', n)!)] as const).sort((a, b) => a[0] - b[0]);
      let gate = 0;
      let end = -Infinity;
      for (const [a, b] of spans) {
        gate += Math.max(0, b - Math.max(a, end));
        end = Math.max(end, b);
      }
      gates += gate;
      const healthy = names.map((n) => at('rollout.node.healthy', n)!).sort();
      const perNode = names.map((n) => `${n} push ${ms(at('rollout.node.pushing', n)!, at('rollout.node.gating', n)!)} ms, gate ${ms(at('rollout.node.gating', n)!, at('rollout.node.healthy', n)!)} ms`).join('; ');
      lines.push(`wave ${w}: step to its first push ${ms(lastEnd, pushing)} ms, gate time ${gate} ms of ${ms(pushing, healthy.at(-1)!)} ms; ${perNode} (minHealthy ${MIN_HEALTHY_S * 1000} ms; the rest of a gate is the agent's reconcile and its observation)`);
      lastEnd = healthy.at(-1)!;
    }
    lines.push(`last healthy → completed ${ms(lastEnd, completed)} ms`);
    const overhead = (wall / gates - 1) * 100;
    for (const x of lines) console.log(x);
    console.log(`rollout ${r.id}: wall ${wall} ms, Σ gates ${gates} ms, overhead ${overhead.toFixed(1)} %; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores, shared); total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    ok = true;
    report({ id: 'P5', metric: 'overhead_pct', value: Number(overhead.toFixed(1)), unit: '%', op: '<=', target: 5, extra: { wallMs: wall, gatesMs: gates, minHealthyS: MIN_HEALTHY_S, breakdown: lines } });
  } finally {
    await teardown();
    rmSync(tmp, { recursive: true, force: true });
    // the lab keeps its journals and controller.log for a failure; a passing run leaves nothing
    const share = (lab as Lab | null)?.share;
    if (ok && share) rmSync(share, { recursive: true, force: true });
  }
}
