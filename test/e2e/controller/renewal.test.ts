// Certificate renewal in the real lab: the controller signs two-minute agent certificates
// (setup.ts), so every packaged agent in its systemd worker renews at about 2/3 of that lifetime
// (kubelet client-certificate rotation), over mutual TLS, and swaps its TLS context without a
// restart. Watched over two renewals of every node: no poll fails, no node leaves `healthy`,
// the systemd main pid stays, and the certificate each agent serves is the one the controller pins.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { inWorker, lab, nw, nwJson, waitFor } from './lab.js';

interface Event { id: number; kind: string; subject: string; data?: { to?: string } }
const events = (): Event[] => nw('events', '--json').trim().split('\n').map((l) => JSON.parse(l));
const mainPid = (i: number) => inWorker(i, 'systemctl show -p MainPID --value nodewright-agent').trim();

function metrics(): Promise<string> {
  const f = (n: string) => readFileSync(path.join(lab().dir, n));
  return new Promise((resolve, reject) => {
    https.get(`${lab().url}/metrics`, { ca: f('ca.crt'), cert: f('operator.crt'), key: f('operator.key'), agent: false }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve(t));
    }).on('error', reject);
  });
}
const failedPolls = (m: string) =>
  m.split('\n').filter((l) => /^nodewright_polls_total\{outcome="(error|http)"\}/.test(l)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

function servedSha(port: number, node: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: node, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

describe('certificate renewal', () => {
  it('every agent renews its two-minute certificate twice with no failed poll and no restart', async () => {
    const { workers, certValidSeconds } = lab();
    expect(certValidSeconds).toBe(120);
    await waitFor('3 healthy nodes', () => nwJson('nodes', 'ls').every((n: { state: string }) => n.state === 'healthy'), 60_000);
    const t0 = Date.now();
    const startId = events().at(-1)!.id;
    const pids = workers.map((_, i) => mainPid(i));
    const failedBefore = failedPolls(await metrics());
    const renewals = () => {
      const mine = events().filter((e) => e.id > startId && e.kind === 'node.cert-renewed');
      return workers.map((w) => mine.filter((e) => e.subject === w.node).length);
    };
    let minHealthy = Infinity;
    await waitFor('two renewals of every node', () => {
      minHealthy = Math.min(minHealthy, nwJson('nodes', 'ls').filter((n: { state: string }) => n.state === 'healthy').length);
      return renewals().every((n) => n >= 2);
    }, 4 * certValidSeconds * 1000, 1_000);
    process.stderr.write(`renewal: two renewals of each of ${workers.length} nodes in ${Math.round((Date.now() - t0) / 1000)} s\n`);

    expect(minHealthy).toBe(workers.length);
    expect(failedPolls(await metrics()) - failedBefore).toBe(0);
    const left = events().filter((e) => e.id > startId && e.kind === 'node.health');
    expect(left).toEqual([]);
    expect(workers.map((_, i) => mainPid(i))).toEqual(pids);
    const nodes = nwJson('nodes', 'ls') as { name: string; certSha256: string; certNotAfter: string; certDaysLeft: number }[];
    for (const [i, w] of workers.entries()) {
      const n = nodes.find((x) => x.name === w.node)!;
      expect(await servedSha(w.agentPort, w.node)).toBe(n.certSha256);
      const onDisk = new X509Certificate(inWorker(i, 'cat /etc/nodewright/agent.crt'));
      expect(onDisk.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(n.certSha256);
      expect(Date.parse(n.certNotAfter) - Date.now()).toBeGreaterThan(0);
      expect(n.certDaysLeft).toBe(0);
      expect(inWorker(i, 'journalctl -u nodewright-agent -o cat --no-pager')).toMatch(/certificate renewed/);
    }
  }, 600_000);
});
