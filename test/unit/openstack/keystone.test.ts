import { describe, expect, it } from 'vitest';
import type { CloudConfig } from '../../../openstack/config.js';
import { findEndpoint, identityV3Url, passwordAuthBody } from '../../../openstack/keystone.js';
import { ComputeSession } from '../../../openstack/session.js';
import { fakeFetch, fakeNova } from './fake-cloud.js';

const catalog = [
  { type: 'identity', endpoints: [{ interface: 'public', region: 'R1', url: 'http://ks.test/v3' }] },
  {
    type: 'compute',
    endpoints: [
      { interface: 'public', region: 'R1', url: 'http://nova.test/v2.1' },
      { interface: 'internal', region: 'R1', url: 'http://nova-int.test/v2.1' },
      { interface: 'public', region: 'R2', url: 'http://nova-r2.test/v2.1' },
    ],
  },
];

const cfg: CloudConfig = {
  source: 'test',
  auth: { type: 'password', authUrl: 'http://ks.test:5000', username: 'ops', password: 'pw', userDomainName: 'Default', projectName: 'infra', projectDomainName: 'Default' },
  interface: 'public',
  regionName: 'R1',
  timeoutMs: 2000,
};

describe('Keystone v3 password auth', () => {
  it('builds the v3 request with domain-scoped user and project', () => {
    expect(identityV3Url('http://ks:5000/')).toBe('http://ks:5000/v3');
    expect(identityV3Url('http://ks:5000/v3')).toBe('http://ks:5000/v3');
    expect(passwordAuthBody(cfg.auth as never)).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'ops', password: 'pw', domain: { name: 'Default' } } } },
        scope: { project: { name: 'infra', domain: { name: 'Default' } } },
      },
    });
  });

  it('picks the compute endpoint by interface and region', () => {
    expect(findEndpoint(catalog, 'compute', 'public', 'R2')).toBe('http://nova-r2.test/v2.1');
    expect(findEndpoint(catalog, 'compute', 'internal')).toBe('http://nova-int.test/v2.1');
    expect(() => findEndpoint(catalog, 'compute', 'admin')).toThrow(/no admin 'compute' endpoint/);
  });

  it('a session authenticates, finds Nova in the catalog and sends the subject token; re-auths once on 401', async () => {
    let issued = 0;
    let expireNext = false;
    const nova = fakeNova();
    const f = fakeFetch((c) => {
      if (c.url.pathname === '/v3/auth/tokens') {
        issued++;
        return { status: 201, body: { token: { expires_at: '2099-01-01T00:00:00Z', catalog } }, headers: { 'X-Subject-Token': `admin:admin` } };
      }
      if (expireNext) {
        expireNext = false;
        return { status: 401, body: { error: { message: 'expired' } } };
      }
      return nova(c);
    });
    const s = await ComputeSession.open(cfg, { fetch: f.fetch });
    expect(s.endpoint).toBe('http://nova.test/v2.1');
    expect(f.calls[0].body).toMatchObject({ auth: { identity: { methods: ['password'] } } });
    expireNext = true;
    const r = await s.request({ path: '/os-hypervisors/detail' });
    expect((r.body as { hypervisors: unknown[] }).hypervisors).toHaveLength(2);
    expect(issued).toBe(2);
  });

  it('rejected credentials give NW_OPENSTACK_AUTH', async () => {
    const f = fakeFetch(() => ({ status: 401, body: { error: { code: 401, message: 'The request you have made requires authentication.' } } }));
    await expect(ComputeSession.open(cfg, { fetch: f.fetch })).rejects.toMatchObject({ code: 'NW_OPENSTACK_AUTH', message: expect.stringContaining('refused the credentials of user ops') });
  });
});
