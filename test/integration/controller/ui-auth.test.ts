// Dashboard sign-in through the real daemon (`nodewright controller run` from dist/, simulated
// agents): `nodewright ui --json` → the link → 303 with the session cookie → signed in; a link
// works once; `--revoke` ends sessions; sign-out needs the CSRF token from the same origin; an
// operator client certificate signs a browser in without a link, an agent's or Prometheus's does
// not; sign-in attempts are rate limited; no code or cookie value reaches the log. Then two real
// controllers on PostgreSQL: a session made on the leader is accepted by the follower, and a
// follower mints links and signs browsers in itself (no 307, and it keeps following).
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyAndCsr } from '../../../pki/index.js';
import { startPostgres, type PostgresLab } from '../../../lab/postgres/lab.js';
import { tempDir } from '../../tmp.js';
import { call, type Answer } from './fixture.js';
import { Fleet, until } from './ha-fleet.js';
import { startSimFleet, type SimFleet } from './sim-fleet.js';

let fleet: SimFleet;
const file = (...p: string[]) => readFileSync(path.join(fleet.dir, ...p), 'utf8');
const base = () => `https://127.0.0.1:${fleet.port}`;
/** A browser: trusts the fleet CA, holds no client certificate unless given one. */
const browser = (url: string, o: { cookie?: string; method?: string; headers?: Record<string, string>; body?: string; cert?: { cert: string; key: string } } = {}): Promise<Answer> =>
  call(url, {
    ca: file('ctl', 'ca.crt'), ...o.cert, method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'), body: o.body,
    headers: { ...(o.cookie ? { cookie: o.cookie } : {}), ...(o.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...o.headers },
  });
const cookieOf = (a: Answer): string => {
  const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
  expect(set).toHaveLength(1);
  return set[0].split(';')[0];
};
const link = (...flags: string[]): { url: string; expiresAt: string } => {
  const r = fleet.nodewright('ui', '--json', ...flags);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^\{"url":"https:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=[A-Za-z0-9_-]{43}","expiresAt":"[^"]+Z"\}\n$/);
  return JSON.parse(r.stdout);
};
const signIn = async (...flags: string[]): Promise<string> => {
  const { url } = link(...flags);
  const cookie = cookieOf(await browser(url));
  seen.push(new URL(url).searchParams.get('code')!, cookie.split('=')[1]);
  return cookie;
};
const whoami = (cookie: string) => browser(`${base()}/ui/session`, { cookie });
const seen: string[] = []; // every code and cookie value: none may appear in the log

/** A client certificate of `role` issued by the fleet CA (`nodewright ca issue`). */
async function issued(role: 'agent' | 'metrics', name: string): Promise<{ cert: string; key: string }> {
  const dir = tempDir('nw-ui-cert-');
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: name });
  writeFileSync(path.join(dir, 'req.csr'), csrPem);
  const r = fleet.nodewright('ca', 'issue', '--dir', path.join(fleet.dir, 'ctl'), '--csr', path.join(dir, 'req.csr'), '--role', role, '--name', name, '--out', path.join(dir, 'c.crt'));
  if (r.status !== 0) throw new Error(r.stderr);
  return { cert: readFileSync(path.join(dir, 'c.crt'), 'utf8'), key: keyPem };
}

describe('dashboard sign-in through the real daemon', () => {
  beforeAll(async () => {
    fleet = await startSimFleet({ nodes: ['w1'] });
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
  }, 30_000);

  it('nodewright ui --json → the link answers 303 to /ui/ with the session cookie; a second use is 401', async () => {
    const { url, expiresAt } = link();
    seen.push(new URL(url).searchParams.get('code')!);
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const first = await browser(url);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/ui/');
    const set = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/^nw_session=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; Secure; SameSite=Strict; Max-Age=28800$/);
    const cookie = cookieOf(first);
    seen.push(cookie.split('=')[1]);
    const me = await whoami(cookie);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ actor: expect.stringMatching(/^operator:/), readOnly: false });

    const again = await browser(url);
    expect(again.status).toBe(401);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.text).toContain('already used or has expired');
    expect(again.text).toContain('nodewright ui');
    expect(again.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // an unknown code, and markup in it, changes nothing and is never echoed
    const forged = await browser(`${base()}/ui/login?code=%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    expect(forged.status).toBe(401);
    expect(forged.text).not.toContain('<script');
    // the audit log has the link and the sign-in, with the operator's name
    const events = (await fleet.api('GET', '/v1/events')).json.events as { kind: string; actor: string; data?: { readOnly?: boolean } }[];
    expect(events.filter((e) => e.kind.startsWith('ui.')).map((e) => `${e.kind} ${e.data?.readOnly}`)).toEqual(['ui.link false', 'ui.signed-in false']);
    expect(new Set(events.filter((e) => e.kind.startsWith('ui.')).map((e) => e.actor))).toEqual(new Set([me.json.actor]));
  });

  it('the human line names the link and says valid 60 s, single use; --read-only gives a viewer session', async () => {
    const r = fleet.nodewright('ui');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=\S+\nvalid 60 s, single use/);
    const viewer = await signIn('--read-only');
    expect((await whoami(viewer)).json).toMatchObject({ readOnly: true });
  });

  it('sign-out needs the CSRF token from the same origin (403 and the session lives on); with both it ends the session', async () => {
    const cookie = await signIn();
    const csrfLess = await browser(`${base()}/ui/logout`, { cookie, body: '' });
    expect(csrfLess.status).toBe(403);
    expect(csrfLess.text).toContain('NW_CSRF');
    expect((await whoami(cookie)).status).toBe(200);
    const wrongToken = await browser(`${base()}/ui/logout`, { cookie, body: `_csrf=${'x'.repeat(43)}` });
    expect(wrongToken.status).toBe(403);
    expect((await whoami(cookie)).status).toBe(200);
    // the session's token (the pages carry it in <meta name="csrf-token">), from another origin
    const { csrf } = (await whoami(cookie)).json as { csrf: string };
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const crossOrigin = await browser(`${base()}/ui/logout`, { cookie, body: `_csrf=${csrf}`, headers: { origin: 'https://evil.example' } });
    expect(crossOrigin.status).toBe(403);
    const crossSite = await browser(`${base()}/ui/logout`, { cookie, method: 'POST', headers: { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect((await whoami(cookie)).status).toBe(200);
    // the token from the same origin: signed out, the cookie cleared
    const out = await browser(`${base()}/ui/logout`, { cookie, method: 'POST', headers: { 'x-csrf-token': csrf, origin: base(), 'sec-fetch-site': 'same-origin' } });
    expect(out.status).toBe(303);
    expect(out.headers['set-cookie']).toEqual(['nw_session=; Path=/ui; HttpOnly; Secure; SameSite=Strict; Max-Age=0']);
    expect((await whoami(cookie)).status).toBe(401);
  });

  it('nodewright ui --revoke ends every session: the next request is signed out', async () => {
    const a = await signIn();
    const b = await signIn('--read-only');
    const r = fleet.nodewright('ui', '--revoke');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ended \d+ dashboard sessions\n$/);
    for (const c of [a, b]) expect((await whoami(c)).status).toBe(401);
    expect(JSON.parse(fleet.nodewright('ui', '--revoke', '--json').stdout)).toEqual({ revoked: 0 });
    expect(fleet.nodewright('ui', '--revoke', '--open').status).toBe(2);
  });

  it('nodewright ui --revoke --operator NAME ends only that operator\'s sessions', async () => {
    const a = await signIn();
    const b = await signIn('--read-only');
    const me = ((await whoami(a)).json as { actor: string }).actor.replace(/^operator:/, '');
    const other = fleet.nodewright('ui', '--revoke', '--operator', 'someone-else', '--json');
    expect(JSON.parse(other.stdout)).toEqual({ revoked: 0 });
    for (const c of [a, b]) expect((await whoami(c)).status).toBe(200);
    const mine = fleet.nodewright('ui', '--revoke', '--operator', me);
    expect(mine.stdout).toBe('ended 2 dashboard sessions\n');
    for (const c of [a, b]) expect((await whoami(c)).status).toBe(401);
    const bad = fleet.nodewright('ui', '--operator', me);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('NW_USAGE');
    const events = fleet.nodewright('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; subject: string; message: string });
    const revokes = events.filter((e) => e.kind === 'ui.revoked').slice(-2);
    expect(revokes.map((e) => e.subject)).toEqual(['operator:someone-else', `operator:${me}`]);
    expect(revokes[1].message).toMatch(new RegExp(`^operator:\\S+ ended 2 dashboard sessions of ${me}$`));
  });

  it('an operator client certificate without a cookie is signed in (and given the cookie); an agent or metrics certificate is not', async () => {
    const operator = { cert: file('ctl', 'operator.crt'), key: file('ctl', 'operator.key') };
    const withCert = await browser(`${base()}/ui/session`, { cert: operator });
    expect(withCert.status).toBe(200);
    expect(withCert.json).toMatchObject({ actor: expect.stringMatching(/^operator:/), readOnly: false });
    const cookie = cookieOf(withCert);
    seen.push(cookie.split('=')[1]);
    expect((await whoami(cookie)).status).toBe(200); // the cookie alone now
    for (const role of ['agent', 'metrics'] as const) {
      const r = await browser(`${base()}/ui/session`, { cert: await issued(role, `ui-${role}`) });
      expect(r.status, role).toBeGreaterThanOrEqual(401);
      expect(r.status, role).toBeLessThanOrEqual(403);
      expect(r.headers['set-cookie'], role).toBeUndefined();
    }
  });

  it('--open hands the link to xdg-open; without an opener it is a coded error', () => {
    const bin = tempDir('nw-ui-bin-');
    const opened = path.join(bin, 'opened');
    writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}\n`);
    chmodSync(path.join(bin, 'xdg-open'), 0o755);
    const env = { NODEWRIGHT_OPERATOR_CONFIG: path.join(fleet.dir, 'ctl', 'operator.yaml') };
    const node = process.execPath;
    const cli = path.resolve('dist/controller/cli.js');
    const spawn = (PATH: string) => spawnSync(node, [cli, 'ui', '--open'], { encoding: 'utf8', timeout: 60_000, env: { ...env, PATH } });
    const ok = spawn(`${bin}:/usr/bin:/bin`);
    expect(ok.status).toBe(0);
    expect(readFileSync(opened, 'utf8').trim()).toBe(ok.stdout.split('\n')[0]);
    const none = spawn(tempDir('nw-ui-empty-'));
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^NW_EXEC_MISSING: no xdg-open on PATH/);
  });

  it('sign-in attempts are rate limited per address (429, Retry-After); no code or cookie value is in the log', async () => {
    let limited: Answer | null = null;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await browser(`${base()}/ui/login?code=${'a'.repeat(43)}`);
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(401);
    }
    expect(limited).not.toBeNull();
    expect(limited!.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited!.text).toContain('NW_RATE_LIMIT');
    expect(seen.length).toBeGreaterThan(3);
    const log = fleet.logs();
    for (const s of seen) expect(log).not.toContain(s);
  });
});

describe('dashboard sign-in on an HA set (two controllers, PostgreSQL)', () => {
  let lab: PostgresLab;
  let ha: Fleet;
  beforeAll(async () => {
    lab = await startPostgres();
    ha = await Fleet.start(lab, 0);
  }, 180_000);
  afterAll(async () => {
    await ha?.close();
    await lab?.stop();
  }, 60_000);

  it('a session made on the leader is accepted by the follower; the follower mints links and signs in itself', async () => {
    const [c1, c2] = [ha.member('c1'), ha.member('c2')];
    const tls = { ca: readFileSync(path.join(ha.dir, 'ca.crt'), 'utf8') };
    const open = async (m: typeof c1, route: string, cookie?: string) => call(`${m.url}${route}`, { ...tls, headers: cookie ? { cookie } : {} });
    const mint = async (m: typeof c1) => {
      const r = await m.api('POST', '/v1/ui/login-codes', {});
      expect(r.status, `${m.name} answers itself (no 307)`).toBe(200);
      return (r.json as { code: string }).code;
    };
    const onLeader = await open(c1, `/ui/login?code=${await mint(c1)}`);
    expect(onLeader.status).toBe(303);
    const cookie = String(([] as string[]).concat(onLeader.headers['set-cookie'] ?? [])[0]).split(';')[0];
    expect((await open(c2, '/ui/session', cookie)).status).toBe(200);
    const onFollower = await open(c2, `/ui/login?code=${await mint(c2)}`);
    expect(onFollower.status).toBe(303);
    const revoked = await c2.api('DELETE', '/v1/ui/sessions');
    expect(revoked.json).toEqual({ revoked: 2 });
    expect((await open(c1, '/ui/session', cookie)).status).toBe(401);
    // the follower's unfenced writes did not depose it: both still run, c1 still leads
    await until('c2 still following', async () => (await c2.status())?.leader === 'c1', 5000, () => c2.logTail());
    expect(c1.running && c2.running).toBe(true);
  }, 60_000);
});
