// The controller's HTTPS server under clients that misbehave: a connection that sends nothing
// after the TLS handshake, or half a request, is closed within the header timeout; a body or
// query of the wrong shape is a 400 naming the field; /v1/join is rate-limited per address; and
// the daemon stops within 2 s with an `events --follow` client attached.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControllerServer } from '../../../controller/api/server.js';
import { freePort } from '../../../lab/ports.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../agent/fixture.js';

const PATH_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('controller server limits', () => {
  let dir: string;
  let port: number;
  let controller: ChildProcess | null = null;
  let logs = '';
  const file = (f: string) => readFileSync(path.join(dir, 'ctl', f), 'utf8');
  const operatorTls = () => ({ ca: file('ca.crt'), cert: file('operator.crt'), key: file('operator.key') });

  function request(method: string, urlPath: string, body?: unknown, o: https.RequestOptions = operatorTls()): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        { host: '127.0.0.1', port, path: urlPath, method, agent: false, ...o, headers: data ? { 'content-type': 'application/json' } : {} },
        (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: t ? JSON.parse(t) : null, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A TLS connection that sends `send` (maybe nothing) and reports when the server closed it. */
  function closedAfterMs(send: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const s = tls.connect({ host: '127.0.0.1', port, ca: file('ca.crt'), servername: 'localhost', checkServerIdentity: () => undefined }, () => {
        if (send) s.write(send);
      });
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      setTimeout(() => {
        s.destroy();
        reject(new Error('the server kept the connection open for 20 s'));
      }, 20_000).unref();
    });
  }

  async function startController(): Promise<void> {
    logs = '';
    controller = spawn('node', [CONTROLLER_CLI, 'controller', 'run', '--config', path.join(dir, 'ctl', 'controller.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: PATH_ENV });
    controller.stderr!.on('data', (c) => (logs += c));
    for (let i = 0; ; i++) {
      const ok = await request('GET', '/readyz', undefined, { ca: file('ca.crt') }).then((x) => x.status === 200, () => false);
      if (ok) break;
      if (i > 150) throw new Error(`controller did not start: ${logs}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  beforeAll(async () => {
    requireBuild();
    dir = tempDir('nw-limits-it-');
    port = await freePort();
    const r = spawnSync('node', [CONTROLLER_CLI, 'init', '--dir', path.join(dir, 'ctl'), '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', env: PATH_ENV });
    expect(r.status, r.stderr).toBe(0);
    const cfg = path.join(dir, 'ctl', 'controller.yaml');
    writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}\nserver:\n  headersTimeoutSec: 1\n  joinBurst: 2\n  joinPerMinute: 1\n`);
    await startController();
  }, 60_000);

  afterAll(async () => {
    if (controller?.pid && controller.exitCode === null) {
      process.kill(controller.pid, 'SIGKILL');
      await new Promise((r) => controller!.once('exit', r));
    }
  });

  it('nothing after the handshake, or half a request: closed within the header timeout', async () => {
    const [silent, half] = await Promise.all([closedAfterMs(''), closedAfterMs('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')]);
    // 1 s timeout, checked every 100 ms
    expect(silent).toBeLessThan(3000);
    expect(half).toBeLessThan(3000);
    // a whole request on a fresh connection is still answered
    expect((await request('GET', '/healthz', undefined, { ca: file('ca.crt') })).status).toBe(200);
  });

  it('a body, params or query of the wrong shape is a 400 NW_USAGE naming the field', async () => {
    const bad = await request('POST', '/v1/rollouts', { nodes: 'abc', desired: {} });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ code: 'NW_USAGE', message: expect.stringContaining('nodes') });
    const extra = await request('POST', '/v1/rollouts', { group: 'g', desired: {}, surprise: 1 });
    expect(extra).toMatchObject({ status: 400, json: { code: 'NW_USAGE', message: expect.stringContaining('surprise') } });
    expect(await request('GET', '/v1/rollouts?limit=many')).toMatchObject({ status: 400, json: { code: 'NW_USAGE', message: expect.stringContaining('limit') } });
    expect(await request('GET', '/v1/events?after=x')).toMatchObject({ status: 400, json: { code: 'NW_USAGE', message: expect.stringContaining('after') } });
    expect(await request('POST', '/v1/join-tokens', { group: 5 })).toMatchObject({ status: 400, json: { code: 'NW_USAGE', message: expect.stringContaining('group') } });
    expect(await request('GET', '/v1/rollouts/..%2Fx')).toMatchObject({ status: 400, json: { code: 'NW_USAGE' } });
    // and the shape that is right still works
    expect(await request('GET', '/v1/rollouts?limit=5')).toMatchObject({ status: 200, json: { rollouts: [], next: null } });
  });

  it('/v1/join is rate-limited per source address (429 NW_RATE_LIMIT with Retry-After)', async () => {
    const join = () => request('POST', '/v1/join', { token: 'x' }, { ca: file('ca.crt') });
    const answers = [await join(), await join(), await join()];
    expect(answers.slice(0, 2).map((a) => a.status)).not.toContain(429);
    expect(answers[2]).toMatchObject({ status: 429, json: { code: 'NW_RATE_LIMIT', message: expect.stringMatching(/wait \d+ s/) } });
    expect(Number(answers[2].headers['retry-after'])).toBeGreaterThan(0);
    // other routes are not limited
    expect((await request('GET', '/v1/nodes')).status).toBe(200);
  });

  it('stops within 2 s with an events --follow client attached; the follower ends too', async () => {
    const follower = spawn('node', [CONTROLLER_CLI, 'events', '--follow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...PATH_ENV, NODEWRIGHT_OPERATOR_CONFIG: path.join(dir, 'ctl', 'operator.yaml') },
    });
    let seen = '';
    follower.stdout!.on('data', (c) => (seen += c));
    try {
      // the stream is open once the join-token event created now arrives
      await request('POST', '/v1/join-tokens', { group: 'g' });
      for (let i = 0; i < 100 && !seen.includes('join-token.created'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toContain('join-token.created');
      const t0 = Date.now();
      process.kill(controller!.pid!, 'SIGTERM');
      const code = await new Promise<number | null>((r) => controller!.once('exit', r));
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(code).toBe(0);
      const followerExit = await new Promise<number | null>((r) => (follower.exitCode !== null ? r(follower.exitCode) : follower.once('exit', r)));
      expect(followerExit).not.toBeNull();
    } finally {
      if (follower.exitCode === null && follower.pid) process.kill(follower.pid, 'SIGKILL');
    }
  });

  it('a restarted controller prunes at start: an expired join token is gone, a live one stays', async () => {
    await startController();
    await request('POST', '/v1/join-tokens', { group: 'g', ttlSec: 1 });
    process.kill(controller!.pid!, 'SIGTERM');
    await new Promise((r) => controller!.once('exit', r));
    await new Promise((r) => setTimeout(r, 1100));
    await startController();
    const db = new Database(path.join(dir, 'ctl', 'state', 'controller.db'), { readonly: true });
    try {
      const tokens = db.prepare(`SELECT node_group, expires_at FROM join_tokens`).all() as { expires_at: string }[];
      expect(tokens.length).toBe(1); // the one-hour token of the test above
      expect(Date.parse(tokens[0].expires_at)).toBeGreaterThan(Date.now());
    } finally {
      db.close();
    }
    expect(logs).toContain('retention: pruned the store');
  });
});

describe('controller server connection cap', () => {
  it('connections beyond maxConnections are closed at once; the ones held keep working', async () => {
    const app = await buildControllerServer({ limits: { maxConnections: 2 } });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const sockets: net.Socket[] = [];
    const open = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(Number(port), '127.0.0.1', () => resolve(s)).on('error', reject);
        sockets.push(s);
      });
    const closedWithin = (s: net.Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        s.on('close', () => (clearTimeout(t), resolve(true)));
      });
    try {
      const held = [await open(), await open()];
      const third = await open();
      expect(await closedWithin(third, 2000)).toBe(true);
      // a held connection still gets answers
      const answer = new Promise<string>((resolve) => held[0].once('data', (c) => resolve(String(c))));
      held[0].write('GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 404/);
    } finally {
      for (const s of sockets) s.destroy();
      await app.close();
    }
  });
});
