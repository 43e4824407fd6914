import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudsYamlPaths, loadCloudConfig, warmCloudsYamlParser } from '../../../openstack/config.js';
import { tempDir } from '../../tmp.js';

const tmp = () => tempDir('nw-clouds-');

describe('loadCloudConfig', () => {
  it('reads an admin_token cloud (the noauth2 lab) from ./clouds.yaml', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'clouds.yaml'), 'clouds:\n  lab:\n    auth_type: admin_token\n    auth: {endpoint: "http://127.0.0.1:18774/v2.1", token: "admin:admin"}\n    api_timeout: 5\n');
    const c = loadCloudConfig({ cloud: 'lab', cwd, home: tmp(), env: {} });
    expect(c.auth).toEqual({ type: 'admin_token', endpoint: 'http://127.0.0.1:18774/v2.1', token: 'admin:admin' });
    expect(c.timeoutMs).toBe(5000);
    expect(c.interface).toBe('public');
  });

  it('reads a Keystone v3 password cloud from ~/.config/openstack with OS_CLOUD, defaulting domains', () => {
    const home = tmp();
    mkdirSync(path.join(home, '.config', 'openstack'), { recursive: true });
    writeFileSync(
      path.join(home, '.config', 'openstack', 'clouds.yaml'),
      'clouds:\n  prod:\n    auth:\n      auth_url: https://keystone.example:5000\n      username: ops\n      password: s3cret\n      project_name: infra\n    region_name: RegionTwo\n    interface: internal\n    compute_api_version: "2.67"\n    default_network: none\n',
    );
    const c = loadCloudConfig({ cwd: tmp(), home, env: { OS_CLOUD: 'prod' } });
    expect(c.auth).toMatchObject({ type: 'password', authUrl: 'https://keystone.example:5000', username: 'ops', projectName: 'infra', userDomainName: 'Default', projectDomainName: 'Default' });
    expect(c.regionName).toBe('RegionTwo');
    expect(c.interface).toBe('internal');
    expect(c.computeApiVersion).toBe('2.67');
    expect(c.defaultNetwork).toBe('none');
  });

  it('searches OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack, /etc/openstack in that order', () => {
    expect(cloudsYamlPaths({ OS_CLIENT_CONFIG_FILE: '/x/c.yaml' }, '/w', '/h')).toEqual([
      '/x/c.yaml', '/w/clouds.yaml', '/h/.config/openstack/clouds.yaml', '/etc/openstack/clouds.yaml',
    ]);
  });

  it('builds password auth from OS_* variables', () => {
    const c = loadCloudConfig({
      env: { OS_AUTH_URL: 'http://ks/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'pr', OS_USER_DOMAIN_NAME: 'D', OS_INTERFACE: 'internalURL' },
    });
    expect(c.auth).toMatchObject({ type: 'password', userDomainName: 'D', projectDomainName: 'Default' });
    expect(c.interface).toBe('internal');
  });

  it('builds admin_token auth from OS_AUTH_TYPE/OS_ENDPOINT/OS_TOKEN', () => {
    const c = loadCloudConfig({ env: { OS_AUTH_TYPE: 'admin_token', OS_ENDPOINT: 'http://n/v2.1', OS_TOKEN: 't' } });
    expect(c.auth).toEqual({ type: 'admin_token', endpoint: 'http://n/v2.1', token: 't' });
  });

  it('coded errors: no credentials, unknown cloud, missing password fields, unsupported auth type', () => {
    expect(() => loadCloudConfig({ env: {} })).toThrow(expect.objectContaining({ code: 'NW_OPENSTACK_AUTH' }));
    expect(() => loadCloudConfig({ cloud: 'nope', cwd: tmp(), home: tmp(), env: {} })).toThrow(/cloud 'nope' is not defined/);
    expect(() => loadCloudConfig({ env: { OS_AUTH_URL: 'http://ks', OS_USERNAME: 'u' } })).toThrow(/missing password, project_name/);
    expect(() => loadCloudConfig({ env: { OS_AUTH_TYPE: 'v3oidc', OS_AUTH_URL: 'x' } })).toThrow(/not supported/);
  });

  it('says which file is broken YAML', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'clouds.yaml'), 'clouds: [\n');
    expect(() => loadCloudConfig({ cloud: 'x', cwd, home: tmp(), env: {} })).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
  });
});

describe('warmCloudsYamlParser', () => {
  it('parses its sample of both auth types without reading a file or the environment (the snapshot build runs it)', () => {
    expect(() => warmCloudsYamlParser()).not.toThrow();
  });
});
