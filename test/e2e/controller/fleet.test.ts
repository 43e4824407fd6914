// Three real systemd workers enrolled through the controller: inventory over mutual TLS, a stopped
// worker unreachable within 3 poll intervals and healthy again, refusals (wrong join token, a
// foreign client certificate at the controller and at an agent) that change nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../tmp.js';
import { inWorker, lab, nw, nwJson, waitFor } from './lab.js';

const repo = path.resolve('.');
const PATH = process.env.PATH ?? '/usr/bin:/bin';

function fetchText(url: string, o: https.RequestOptions): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent: false, timeout: 5000, ...o }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: t }));
      })
      .on('error', reject);
  });
}

function get(url: string, o: https.RequestOptions): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent: false, timeout: 5000, ...o }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: t ? JSON.parse(t) : null }));
      })
      .on('error', reject);
  });
}

describe('controller fleet on real systemd workers', () => {
  it('the three enrolled agents are in the inventory, healthy, polled over mutual TLS', async () => {
    const nodes = await waitFor('3 healthy nodes', () => {
      const l = nwJson('nodes', 'ls');
      return l.length === 3 && l.every((n: { state: string }) => n.state === 'healthy') && l;
    });
    expect(nodes.map((n: { name: string; group: string }) => `${n.name}/${n.group}`).sort()).toEqual(['w1/lab', 'w2/lab', 'w3/lab']);
    for (const n of nodes) expect(n.url).toBe(`https://127.0.0.1:${lab().workers.find((w) => w.node === n.name)!.agentPort}`);
    const show = nwJson('nodes', 'show', 'w1');
    expect(show.status.agent.node).toBe('w1');
    expect(show.labels).toEqual({ slot: '1' });
    // each agent serves TLS with its enrolled certificate only: no client cert → refused
    const ca = readFileSync(path.join(lab().dir, 'ca.crt'));
    const r = await get(`https://127.0.0.1:${lab().workers[0].agentPort}/v1/status`, { ca, servername: 'w1', checkServerIdentity: () => undefined });
    expect(r.status).toBe(401);
  });

  it('a stopped worker is unreachable within 3 poll intervals, and healthy again after it starts', async () => {
    const interval = lab().pollIntervalSec * 1000;
    const stoppedAt = Date.now();
    inWorker(2, 'systemctl stop nodewright-agent');
    await waitFor('w3 unreachable', () => nwJson('nodes', 'ls').find((n: { name: string }) => n.name === 'w3').state === 'unreachable', 15_000);
    const events = nw('events', '--json').trim().split('\n').map((l) => JSON.parse(l));
    const down = events.filter((e) => e.kind === 'node.health' && e.subject === 'w3' && e.data?.to === 'unreachable').pop();
    expect(Date.parse(down.at) - stoppedAt).toBeLessThan(3 * interval);
    inWorker(2, 'systemctl start nodewright-agent');
    await waitFor('w3 healthy again', () => nwJson('nodes', 'ls').find((n: { name: string }) => n.name === 'w3').state === 'healthy', 30_000);
  });

  it('a wrong join token is refused and writes nothing; the inventory is unchanged', () => {
    const dir = tempDir('nw-e2e-join-');
    const t = nwJson('nodes', 'join-token', '--group', 'lab');
    const out = path.join(dir, 'agent.yaml');
    const r = spawnSync('node', [path.join(repo, 'dist/agent/cli.js'), 'join', '--controller', lab().url, '--token', `${t.token.slice(0, 7)}zzzzzzzzzzzzzzzz`, '--ca-cert-hash', t.caCertHash, '--config-out', out, '--listen', '127.0.0.1:1', '--name', 'intruder'], { encoding: 'utf8', env: { PATH } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^NW_TOKEN: /);
    expect(existsSync(out)).toBe(false);
    expect(nwJson('nodes', 'ls').map((n: { name: string }) => n.name).sort()).toEqual(['w1', 'w2', 'w3']);
  });

  it('a client certificate of a foreign CA is refused by the controller and by the agents', async () => {
    const other = tempDir('nw-e2e-foreign-');
    const init = spawnSync('node', [path.join(repo, 'dist/controller/cli.js'), 'init', '--dir', path.join(other, 'c'), '--listen', '127.0.0.1:1'], { encoding: 'utf8', env: { PATH } });
    expect(init.status).toBe(0);
    const f = (n: string) => readFileSync(path.join(other, 'c', n));
    const ca = readFileSync(path.join(lab().dir, 'ca.crt'));
    const atController = await get(`${lab().url}/v1/nodes`, { ca, cert: f('controller.crt'), key: f('controller.key') });
    expect(atController).toMatchObject({ status: 401, json: { code: 'NW_AUTH' } });
    const atAgent = await get(`https://127.0.0.1:${lab().workers[0].agentPort}/v1/status`, { ca, cert: f('controller.crt'), key: f('controller.key'), servername: 'w1', checkServerIdentity: () => undefined });
    expect(atAgent.status).toBe(401);
    expect(nwJson('nodes', 'ls')).toHaveLength(3);
  });

  it('the packaged controller serves the dashboard: its static files from lib/ui-static, the sign-in page to a browser without a session', async () => {
    const ca = readFileSync(path.join(lab().dir, 'ca.crt'));
    const htmx = await fetchText(`${lab().url}/ui/static/htmx.min.js`, { ca });
    expect(htmx.status).toBe(200);
    expect(htmx.type).toContain('javascript');
    expect(htmx.text).toBe(readFileSync(path.join(repo, 'node_modules/htmx.org/dist/htmx.min.js'), 'utf8'));
    for (const f of ['hx-sse.min.js', 'ui.js', 'ui.css']) expect((await fetchText(`${lab().url}/ui/static/${f}`, { ca })).status, f).toBe(200);
    const page = await fetchText(`${lab().url}/ui/`, { ca });
    expect(page.status).toBe(401);
    expect(page.text).toContain('<h1>Sign in</h1>');
  });
});
