// Prometheus sees the fleet: Debian's prometheus (lab/prometheus) on a free loopback port, configured
// from the shipped deploy/prometheus/prometheus.example.yml (only addresses, file paths and intervals
// changed) with the shipped rules, scraping over mutual TLS with a `metrics` certificate issued by the
// packaged `nodewright ca issue --role metrics`: the controller, the lab's three enrolled agents
// (discovered through /v1/prometheus/targets) and a real Ceph's mgr `prometheus` module (a bare Ceph
// lab started here, the module on a free port of 127.0.0.1). Everything started here is stopped by pid.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCephLab, stopCephLab, type CephLab } from '../../../lab/ceph/lab.js';
import { freePort } from '../../../lab/ports.js';
import { startPrometheus, type PrometheusLab } from '../../../lab/prometheus/lab.js';
import { createKeyAndCsr } from '../../../pki/index.js';
import { tempDir } from '../../tmp.js';
import { lab, nw, waitFor } from './lab.js';

interface Target { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }

const DEPLOY = path.resolve('deploy/prometheus');
let ceph: CephLab | null = null;
let prom: PrometheusLab | null = null;
let mgrPort = 0;

const cephCli = (...args: string[]) => {
  const r = spawnSync('ceph', ['-c', ceph!.conf, '-k', ceph!.adminKeyring, '--connect-timeout', '20', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ceph ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};
const api = async <T>(p: string): Promise<T> => {
  const res = await fetch(`${prom!.url}${p}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${p}: ${JSON.stringify(body)}`);
  return body.data;
};
const activeTargets = async () => (await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets;

beforeAll(async () => {
  const t0 = Date.now();
  ceph = await startCephLab({ bare: true });
  mgrPort = await freePort();
  cephCli('config', 'set', 'mgr', 'mgr/prometheus/server_addr', '127.0.0.1');
  cephCli('config', 'set', 'mgr', 'mgr/prometheus/server_port', String(mgrPort));
  cephCli('mgr', 'module', 'enable', 'prometheus');
  const tCeph = Date.now() - t0;

  // Prometheus's credential, made as an operator would: its own key and CSR, signed with the metrics role
  const dir = tempDir('nw-e2e-prometheus-');
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'prometheus' });
  writeFileSync(path.join(dir, 'prometheus.key'), keyPem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'prometheus.csr'), csrPem);
  writeFileSync(path.join(dir, 'ca.crt'), readFileSync(path.join(lab().dir, 'ca.crt')));
  nw('ca', 'issue', '--dir', lab().dir, '--csr', path.join(dir, 'prometheus.csr'), '--role', 'metrics', '--name', 'prometheus', '--out', path.join(dir, 'prometheus.crt'));

  const config = readFileSync(path.join(DEPLOY, 'prometheus.example.yml'), 'utf8')
    .replaceAll('controller.example:8443', `127.0.0.1:${lab().port}`)
    .replaceAll('/etc/prometheus/nodewright/', `${dir}/`)
    .replace(/scrape_interval: 30s/, 'scrape_interval: 1s')
    .replace(/evaluation_interval: 30s/, 'evaluation_interval: 1s')
    .replace(/refresh_interval: 1m/, 'refresh_interval: 2s')
    + `\n  - job_name: ceph\n    static_configs:\n      - targets: ['127.0.0.1:${mgrPort}']\n`;
  prom = await startPrometheus({ config, rules: { 'nodewright-rules.yml': readFileSync(path.join(DEPLOY, 'nodewright-rules.yml'), 'utf8') } });
  process.stderr.write(`prometheus e2e: ceph lab + mgr prometheus in ${tCeph} ms, prometheus ${prom.url} ready at ${Date.now() - t0} ms (log ${prom.log})\n`);
}, 240_000);

afterAll(async () => {
  await prom?.stop();
  if (ceph) stopCephLab(ceph.dir);
});

describe('Prometheus scrapes the fleet', () => {
  it('discovers every enrolled agent through http_sd and scrapes it over mutual TLS (up, with node and group labels), the controller and Ceph\'s mgr too', async () => {
    const nodes = lab().workers.map((w) => w.node).sort();
    const targets = await waitFor('every target up in Prometheus', async () => {
      const t = await activeTargets();
      const agents = t.filter((x) => x.labels.job === 'nodewright-agents');
      const ok = agents.length === nodes.length && t.length === nodes.length + 2 && t.every((x) => x.health === 'up');
      return ok ? t : false;
    }, 60_000, 500).catch(async (e) => {
      throw new Error(`${(e as Error).message}\ntargets: ${JSON.stringify(await activeTargets().catch(() => null))}\nprometheus log: ${prom?.log}`);
    });
    const agents = targets.filter((x) => x.labels.job === 'nodewright-agents');
    expect(agents.map((a) => a.labels.node).sort()).toEqual(nodes);
    for (const a of agents) {
      const w = lab().workers.find((x) => x.node === a.labels.node)!;
      expect(a.labels).toMatchObject({ group: 'lab', instance: `127.0.0.1:${w.agentPort}` });
      expect(a.scrapeUrl).toBe(`https://127.0.0.1:${w.agentPort}/metrics`);
    }
    expect(targets.find((x) => x.labels.job === 'nodewright-controller')?.scrapeUrl).toBe(`https://127.0.0.1:${lab().port}/metrics`);
    expect(targets.find((x) => x.labels.job === 'ceph')?.scrapeUrl).toBe(`http://127.0.0.1:${mgrPort}/metrics`);

    // what was scraped is there to query: each agent's up and readiness, the controller leading, Ceph's health
    const query = async (q: string) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`)).result;
    const up = await query('up{job="nodewright-agents"}');
    expect(up.map((r) => [r.metric.node, r.value[1]]).sort()).toEqual(nodes.map((n) => [n, '1']));
    expect((await query('nodewright_ready')).map((r) => r.metric.node).sort()).toEqual(nodes);
    expect((await query('nodewright_controller_leader')).map((r) => r.value[1])).toEqual(['1']);
    expect((await query('ceph_health_status')).length).toBe(1);
  });

  it('loads the shipped rules; with the fleet up, none of the agent-down or no-leader alerts fires', async () => {
    const groups = (await api<{ groups: { name: string; rules: { name: string; health: string; state: string }[] }[] }>('/api/v1/rules')).groups;
    expect(groups.map((g) => g.name)).toEqual(['nodewright-agents', 'nodewright-controller', 'nodewright-rollouts']);
    const rules = groups.flatMap((g) => g.rules);
    await waitFor('every rule evaluated without error', async () => {
      const now = (await api<{ groups: { rules: { health: string }[] }[] }>('/api/v1/rules')).groups.flatMap((g) => g.rules);
      return now.every((r) => r.health === 'ok');
    }, 20_000, 500);
    expect(rules.length).toBe(13);
    // /api/v1/alerts lists pending alerts too: a rule evaluated before the first scrape of the
    // controller sees absent(nodewright_controller_leader) and is pending (for: 2m), never firing
    const firing = (await api<{ alerts: { labels: { alertname: string }; state: string }[] }>('/api/v1/alerts')).alerts
      .filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    expect(firing.filter((a) => ['NodewrightAgentDown', 'NodewrightNoLeader', 'NodewrightControllerNotLeader', 'NodewrightControllerDown'].includes(a))).toEqual([]);
  });
});
