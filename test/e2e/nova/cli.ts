// Run the real CLI — the packaged controller (bin/nodewright: its own Node 24 on the bundle), as
// operators install it — against the lab. Tokens live in a clouds.yaml (OS_CLIENT_CONFIG_FILE), never on argv.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { NovaLab } from '../../../lab/nova/lab.js';
import { tempDir } from '../../tmp.js';
import { packagedBin } from '../build.js';

export const root = path.resolve(import.meta.dirname, '../../..');
/** The packaged `nodewright` (globalSetup made the package fresh). */
export const cliBin = packagedBin('controller');
/** The snapshot the wrapper starts the OpenStack commands from: what their process's command line shows. */
export const cliSnapshot = path.resolve(path.dirname(cliBin), '../lib/nodewright-openstack.blob');

export interface CliEnv {
  dir: string;
  env: Record<string, string>;
}

/** clouds: lab (admin:admin), demo (non-admin), and a fresh cache dir. */
export function cliEnv(lab: NovaLab): CliEnv {
  const dir = tempDir('nw-nova-e2e-');
  writeFileSync(
    path.join(dir, 'clouds.yaml'),
    `clouds:
  lab:
    auth_type: admin_token
    auth: {endpoint: "${lab.endpoint}", token: "${lab.adminToken}"}
    api_timeout: 60
  demo:
    auth_type: admin_token
    auth: {endpoint: "${lab.endpoint}", token: "${lab.nonAdminToken}"}
    api_timeout: 60
`,
    { mode: 0o600 },
  );
  return { dir, env: { OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), XDG_CACHE_HOME: path.join(dir, 'cache'), OS_CLOUD: '' } };
}

export async function nodewright(e: CliEnv, args: string[], extraEnv: Record<string, string> = {}) {
  const r = await execa(cliBin, args, { env: { ...e.env, ...extraEnv }, reject: false, timeout: 120_000, cwd: e.dir });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Ground truth straight from Nova: server names per compute host (all projects). */
export async function serversByHost(lab: NovaLab): Promise<Record<string, string[]>> {
  const res = await fetch(`${lab.endpoint}/servers/detail?all_tenants=1`, { headers: { 'X-Auth-Token': lab.adminToken, 'OpenStack-API-Version': 'compute 2.53' } });
  const body = (await res.json()) as { servers: Array<{ name: string; 'OS-EXT-SRV-ATTR:host': string }> };
  const out: Record<string, string[]> = {};
  for (const s of body.servers) (out[s['OS-EXT-SRV-ATTR:host']] ??= []).push(s.name);
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}

/**
 * clouds through the lab's real Keystone (auth_type password, catalog, region, interface public):
 * ks (admin in project admin), ks-demo (member of demo: non-admin), ks-wrong (admin, wrong
 * password), ks-elsewhere (admin, a region the catalog does not have). Passwords come from the lab's 0600 files into a 0600 clouds.yaml, never argv.
 */
export function keystoneCliEnv(lab: NovaLab, wrongPassword: string): CliEnv {
  const ks = lab.keystone;
  if (!ks) throw new Error('the Nova lab was started without Keystone (startNovaLab({keystone: true}) / NOVA_LAB_KEYSTONE=1)');
  const dir = tempDir('nw-nova-ks-e2e-');
  const cloud = (user: string, project: string, password: string, region = ks.region) => `
    auth_type: password
    auth:
      auth_url: "${ks.authUrl}"
      username: ${user}
      password: "${password}"
      project_name: ${project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${region}
    interface: public
    api_timeout: 60`;
  writeFileSync(
    path.join(dir, 'clouds.yaml'),
    `clouds:
  ks:${cloud('admin', 'admin', readFileSync(ks.adminPasswordFile, 'utf8').trim())}
  ks-demo:${cloud('demo', 'demo', readFileSync(ks.demoPasswordFile, 'utf8').trim())}
  ks-wrong:${cloud('admin', 'admin', wrongPassword)}
  ks-elsewhere:${cloud('admin', 'admin', readFileSync(ks.adminPasswordFile, 'utf8').trim(), 'Nowhere')}
`,
    { mode: 0o600 },
  );
  return { dir, env: { OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml'), XDG_CACHE_HOME: path.join(dir, 'cache'), OS_CLOUD: '' } };
}
