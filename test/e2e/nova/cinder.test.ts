// servers boot --volume-type against the real Cinder of the lab (two RBD backends on a real Ceph):
// the seed's boot-from-volume lands its volume in the type's pool (checked with `rbd ls`), and an
// unknown type, a Nova below 2.67, a Cinder that is down, and a build that fails in Cinder each give
// a coded error and leave no server and no volume behind.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from '../../tmp.js';
import { type CliEnv, nodewright } from './cli.js';

const lab = inject('novaLab');
const cinder = lab.cinder!;
const PREFIX = `nw-e2e-cinder-${process.pid}`;
const H = { 'X-Auth-Token': 'admin:admin', 'Content-Type': 'application/json' };
const NOVA = lab.endpoint;

function labCloud(extra = ''): CliEnv {
  const dir = tempDir('nw-cinder-e2e-');
  const file = path.join(dir, 'clouds.yaml');
  writeFileSync(file, extra ? `clouds:\n  lab:\n${extra}` : '', { mode: 0o600 });
  return { dir, env: { OS_CLIENT_CONFIG_FILE: extra ? file : lab.cloudsYaml, XDG_CACHE_HOME: path.join(dir, 'cache'), OS_CLOUD: '' } };
}
const boot = (e: CliEnv, name: string, type: string, ...more: string[]) =>
  nodewright(e, ['servers', 'boot', name, '--flavor', 'm1.tiny', '--image', 'cirros', '--boot-volume-size', '1', '--volume-type', type, '--wait', '--json', '--os-cloud', 'lab', ...more]);

async function rbdLs(pool: string): Promise<string[]> {
  const r = await execa('rbd', ['-c', path.join(cinder.cephDir, 'ceph.conf'), '--id', 'cinder', 'ls', pool], { timeout: 60_000 });
  return r.stdout.split('\n').filter(Boolean);
}
async function serversNamed(prefix: string): Promise<Array<{ id: string; name: string }>> {
  const r = await fetch(`${NOVA}/servers?all_tenants=1&name=^${prefix}`, { headers: H });
  return ((await r.json()) as { servers: Array<{ id: string; name: string }> }).servers;
}
async function volumes(): Promise<Array<{ id: string; status: string }>> {
  const r = await fetch(`${cinder.endpoint}/volumes/detail?all_tenants=1`, { headers: H });
  return ((await r.json()) as { volumes: Array<{ id: string; status: string }> }).volumes;
}
async function until(what: string, ok: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what} (logs: ${lab.logs}, ${cinder.logs})`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

afterAll(async () => {
  // DELETE again while any is left: the lab's sqlite Nova may answer a DELETE with 500 (database is locked)
  await until('the test servers to be gone', async () => {
    const left = await serversNamed(PREFIX);
    for (const s of left) await fetch(`${NOVA}/servers/${s.id}`, { method: 'DELETE', headers: H });
    return left.length === 0;
  }, 240_000);
  await until('both pools to be empty', async () => (await rbdLs('volumes-ssd')).length + (await rbdLs('volumes-hdd')).length === 0, 240_000);
});

describe('servers boot --volume-type on real Cinder + Ceph', () => {
  it('volume-types ls shows the two types with their backends', async () => {
    const r = await nodewright(labCloud(), ['volume-types', 'ls', '--json', '--os-cloud', 'lab']);
    expect(r.stderr).toBe('');
    const types = JSON.parse(r.stdout).volume_types as Array<{ name: string; backend: string | null; is_public: boolean }>;
    expect(types).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'ceph-ssd', backend: 'ceph-ssd', is_public: true }),
      expect.objectContaining({ name: 'ceph-hdd', backend: 'ceph-hdd', is_public: true }),
    ]));
  });

  it('ceph-ssd and ceph-hdd, booted at once: ACTIVE, the boot volume has the type, its RBD image is in that pool only', async () => {
    const e = labCloud();
    const [ssd, hdd] = await Promise.all([boot(e, `${PREFIX}-ssd`, 'ceph-ssd'), boot(e, `${PREFIX}-hdd`, 'ceph-hdd')]);
    for (const [r, type, pool, other] of [[ssd, 'ceph-ssd', 'volumes-ssd', 'volumes-hdd'], [hdd, 'ceph-hdd', 'volumes-hdd', 'volumes-ssd']] as const) {
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ status: 'ACTIVE', volume_type: type, boot_volume: { volume_type: type, status: 'in-use', host: `cinder-host@${type}#${type}` } });
      expect(out.boot_volume.attachments).toEqual([{ server_id: out.id }]);
      expect(await rbdLs(pool)).toContain(`volume-${out.boot_volume.id}`);
      expect(await rbdLs(other)).not.toContain(`volume-${out.boot_volume.id}`);
    }
  });

  it('an unknown volume type: NW_VOLUME_TYPE naming the types there are; no server created', async () => {
    const r = await boot(labCloud(), `${PREFIX}-unknown`, 'ceph-nvme');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_VOLUME_TYPE: Cinder has no volume type 'ceph-nvme'; use one of: .*ceph-ssd.*; nothing was created/);
    expect(await serversNamed(`${PREFIX}-unknown`)).toEqual([]);
  });

  it('Nova below 2.67: NW_MICROVERSION before anything is sent; no server created', async () => {
    const r = await boot(labCloud(), `${PREFIX}-old`, 'ceph-ssd', '--os-compute-api-version', '2.66');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_MICROVERSION: boot with --volume-type .* needs compute microversion 2\.67 or later, but this session uses 2\.66/);
    expect(await serversNamed(`${PREFIX}-old`)).toEqual([]);
  });

  it('Cinder down (nothing listens at the block-storage endpoint): NW_CINDER_UNAVAILABLE; no server created', async () => {
    const e = labCloud(
      `    auth_type: admin_token\n    auth: {endpoint: "${NOVA.replace('/v2.1', '/trusted/v2.1')}", token: "admin:admin"}\n    block_storage_endpoint_override: "http://127.0.0.1:9/v3/admin"\n    api_timeout: 5\n`,
    );
    const r = await boot(e, `${PREFIX}-nocinder`, 'ceph-ssd');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^NW_CINDER_UNAVAILABLE: Cinder at http:\/\/127\.0\.0\.1:9\/v3\/admin is not answering .*start cinder-api/);
    expect(await serversNamed(`${PREFIX}-nocinder`)).toEqual([]);
  });

  it('a type whose backend does not exist: Cinder fails the volume, the server goes to ERROR, both are cleaned up (NW_BOOT_FAILED)', async () => {
    const type = `${PREFIX}-nobackend`;
    const created = await fetch(`${cinder.endpoint}/types`, { method: 'POST', headers: H, body: JSON.stringify({ volume_type: { name: type, extra_specs: { volume_backend_name: 'no-such-backend' } } }) });
    const typeId = ((await created.json()) as { volume_type: { id: string } }).volume_type.id;
    try {
      const before = (await volumes()).map((v) => v.id);
      // --wait-timeout below the helper's 120 s: a build the lab's sqlite Nova leaves in BUILD is reported, not hung on
      const r = await boot(labCloud(), `${PREFIX}-fail`, type, '--wait-timeout', '80');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^NW_BOOT_FAILED: server nw-e2e-cinder-\d+-fail \([0-9a-f-]+\) (went to ERROR: .*; (deleted the server.*nothing is left|left behind: .*)|is still BUILD after 80 s; it is left as it is: .*openstack server delete [0-9a-f-]+)/,
      );
      // nothing half-created, or exactly what is left named in the error
      for (const s of await serversNamed(`${PREFIX}-fail`)) expect(r.stderr).toContain(s.id);
      // Nova deletes the errored volume with the server; whatever is left must be named in the error
      // (a server left in BUILD keeps its boot volume, delete_on_termination: named by the server it belongs to)
      if (!/is still BUILD/.test(r.stderr)) {
        await until('the failed boot volume to be gone', async () => (await volumes()).filter((v) => !before.includes(v.id)).every((v) => r.stderr.includes(v.id)), 60_000);
      }
    } finally {
      await fetch(`${cinder.endpoint}/types/${typeId}`, { method: 'DELETE', headers: H });
    }
  });
});
