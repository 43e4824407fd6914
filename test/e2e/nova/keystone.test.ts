// The Keystone v3 password path for real: the lab's Keystone (python3-keystone, fernet, sqlite)
// issues the token and the service catalog; Nova's /ks/v2.1 validates it (authtoken + keystonecontext).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cliBin, cliSnapshot, cliEnv, keystoneCliEnv, nodewright, type CliEnv } from './cli.js';

/**
 * Run the real CLI and, while it runs, read its /proc/<pid>/cmdline every millisecond: what
 * another user on the host could see of it (`ps`). Only readings that are the CLI itself count
 * (before exec the child still shows the parent's command line).
 */
async function watchedCli(e: CliEnv, args: string[], extraEnv: Record<string, string> = {}) {
  const p = execa(cliBin, [...args], { env: { ...e.env, ...extraEnv }, reject: false, timeout: 120_000, cwd: e.dir });
  const cmdlines = new Set<string>();
  let running = true;
  void p.finally(() => (running = false));
  while (running) {
    try {
      const c = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (c.includes(cliSnapshot)) cmdlines.add(c);
    } catch {}
    await new Promise((r) => setTimeout(r, 1));
  }
  const r = await p;
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), cmdlines: [...cmdlines] };
}

const filesUnder = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name)) : [];

const lab = inject('novaLab');
const ks = lab.keystone;
const hostB = Object.keys(lab.computes).sort()[1]; // cmp-b
const ipB = lab.computes[hostB];
const failHint = `(lab logs: ${lab.logs}, keystone: ${lab.dir}/keystone/log)`;
const WRONG = 'not-the-admin-password-7f3a';

describe('nodewright CLI through a real Keystone (password auth, service catalog)', () => {
  let token: CliEnv;
  let pw: CliEnv;
  let adminPassword: string;
  beforeAll(() => {
    if (!ks) throw new Error('the Nova lab has no Keystone: test/e2e/nova/setup.ts starts it with keystone: true (needs python3-keystone, uwsgi-plugin-python3: run sudo bash lab/install-deps.sh)');
    token = cliEnv(lab);
    pw = keystoneCliEnv(lab, WRONG);
    adminPassword = readFileSync(ks.adminPasswordFile, 'utf8').trim();
  });

  it("the catalog's compute endpoint is Nova's keystone-authenticated path, which refuses noauth2 tokens", async () => {
    expect(ks!.computeEndpoint).toMatch(/\/ks\/v2\.1$/);
    const res = await fetch(`${ks!.computeEndpoint}/os-hypervisors`, { headers: { 'X-Auth-Token': lab.adminToken } });
    // 404 here: a reused lab whose nova-api was started without NOVA_LAB_KEYSTONE=1 (restart it with it)
    expect(res.status).toBe(401);
  });

  it('hypervisors ls gives the same answer as the admin_token path (table and --json)', async () => {
    const viaKs = await nodewright(pw, ['hypervisors', 'ls', '--os-cloud', 'ks']);
    expect(viaKs.code, viaKs.stderr + failHint).toBe(0);
    const viaToken = await nodewright(token, ['hypervisors', 'ls', '--os-cloud', 'lab']);
    expect(viaKs.stdout).toBe(viaToken.stdout);
    const j = await nodewright(pw, ['hypervisors', 'ls', '--os-cloud', 'ks', '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse((await nodewright(token, ['hypervisors', 'ls', '--os-cloud', 'lab', '--json'])).stdout));
  });

  it(`hosts show <host_ip of compute B> --json gives the same answer as the admin_token path`, async () => {
    const viaKs = await nodewright(pw, ['hosts', 'show', ipB, '--json', '--os-cloud', 'ks']);
    expect(viaKs.code, viaKs.stderr + failHint).toBe(0);
    const viaToken = await nodewright(token, ['hosts', 'show', ipB, '--json', '--os-cloud', 'lab']);
    expect(viaToken.code, viaToken.stderr).toBe(0);
    expect(JSON.parse(viaKs.stdout)).toEqual(JSON.parse(viaToken.stdout));
    expect(JSON.parse(viaKs.stdout).hypervisor).toMatchObject({ host_ip: ipB, service_host: hostB });
    // and the requests really went through /ks/v2.1 (nova-api's request log)
    const apiLog = readFileSync(path.join(lab.logs, 'nova-api.log'), 'utf8');
    expect(apiLog).toMatch(/"GET \/ks\/v2\.1\/os-hypervisors\/detail[^"]*" status: 200/);
    expect(apiLog).toMatch(/"GET \/ks\/v2\.1\/servers\/detail\?[^"]*host=cmp-b[^"]*" status: 200/);
    expect(apiLog, 'a /ks request failed server-side (authtoken could not reach Keystone?)').not.toMatch(/"GET \/ks\/[^"]*" status: 5\d\d/);
  });

  it('OS_* environment variables (password from the environment, not argv) give the same answer', async () => {
    const env = {
      OS_AUTH_URL: ks!.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: adminPassword, OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: ks!.region, OS_INTERFACE: 'public',
    };
    const r = await nodewright(pw, ['hosts', 'show', ipB, '--json', '--no-cache'], env);
    expect(r.code, r.stderr + failHint).toBe(0);
    const viaToken = await nodewright(token, ['hosts', 'show', ipB, '--json', '--os-cloud', 'lab']);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(viaToken.stdout));
  });

  it('a region the catalog lacks gives NW_OPENSTACK naming the region', async () => {
    const r = await nodewright(pw, ['hypervisors', 'ls', '--os-cloud', 'ks-elsewhere', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK: no public 'compute' endpoint in region Nowhere in the service catalog/);
  });

  it('a wrong password gives NW_OPENSTACK_AUTH (exit 2); no password in the running process\'s argv, its output or the files it wrote', async () => {
    const r = await watchedCli(pw, ['hosts', 'show', ipB, '--os-cloud', 'ks-wrong', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_AUTH: Keystone at .* refused the credentials of user admin/);
    expect(r.cmdlines.length, 'never saw the CLI process in /proc').toBeGreaterThan(0);
    for (const secret of [WRONG, adminPassword]) {
      for (const c of r.cmdlines) expect(c).not.toContain(secret);
      expect(r.stdout + r.stderr).not.toContain(secret);
      for (const f of filesUnder(path.join(pw.dir, 'cache'))) expect(readFileSync(f, 'utf8'), f).not.toContain(secret);
    }
  });

  it('the OS_PASSWORD path: the password is in the environment it was given, never in the process\'s argv or output', async () => {
    const env = {
      OS_AUTH_URL: ks!.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: adminPassword, OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: ks!.region, OS_INTERFACE: 'public',
    };
    const r = await watchedCli(pw, ['hosts', 'show', ipB, '--json'], env);
    expect(r.code, r.stderr + failHint).toBe(0);
    expect(r.cmdlines.length, 'never saw the CLI process in /proc').toBeGreaterThan(0);
    for (const c of r.cmdlines) expect(c).not.toContain(adminPassword);
    expect(r.stdout + r.stderr).not.toContain(adminPassword);
    for (const f of filesUnder(path.join(pw.dir, 'cache'))) expect(readFileSync(f, 'utf8'), f).not.toContain(adminPassword);
  });

  it('a non-admin Keystone user (member of demo) gives NW_OPENSTACK_FORBIDDEN', async () => {
    const r = await nodewright(pw, ['hosts', 'show', ipB, '--os-cloud', 'ks-demo', '--no-cache']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_FORBIDDEN: .*403: Policy doesn't allow os_compute_api:os-hypervisors:list-detail/);
    expect(r.stderr).not.toContain(readFileSync(ks!.demoPasswordFile, 'utf8').trim());
  });
});
