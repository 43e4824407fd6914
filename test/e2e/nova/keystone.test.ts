// The Keystone v3 password path for real: the lab's Keystone (python3-keystone, fernet, sqlite)
// issues the token and the service catalog; Nova's /ks/v2.1 validates it (authtoken + keystonecontext).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cliEnv, keystoneCliEnv, nodewright, type CliEnv } from './cli.js';

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

  it('a wrong password gives NW_OPENSTACK_AUTH (exit 2); no password appears in output or argv', async () => {
    const args = ['hosts', 'show', ipB, '--os-cloud', 'ks-wrong', '--no-cache'];
    const r = await nodewright(pw, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_AUTH: Keystone at .* refused the credentials of user admin/);
    for (const secret of [WRONG, adminPassword]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(args.join(' ')).not.toContain(secret);
    }
  });

  it('a non-admin Keystone user (member of demo) gives NW_OPENSTACK_FORBIDDEN', async () => {
    const r = await nodewright(pw, ['hosts', 'show', ipB, '--os-cloud', 'ks-demo', '--no-cache']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/^NW_OPENSTACK_FORBIDDEN: .*403: Policy doesn't allow os_compute_api:os-hypervisors:list-detail/);
    expect(r.stderr).not.toContain(readFileSync(ks!.demoPasswordFile, 'utf8').trim());
  });
});
