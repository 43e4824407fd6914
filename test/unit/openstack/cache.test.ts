import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheFile, fnv1a64, readCache, writeCache } from '../../../openstack/cache.js';
import { tempDir } from '../../tmp.js';

describe('the CLI\'s on-disk OpenStack cache', () => {
  it('names a cloud\'s file by the 64-bit FNV-1a of its key', () => {
    // the published FNV-1a test vectors
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
    expect(cacheFile('/c', 'token@http://nova/v2.1|||')).toBe(`/c/${fnv1a64('token@http://nova/v2.1|||')}.json`);
  });

  it('reads a file back only for the key written into it: another key of the same name starts cold', () => {
    const dir = tempDir('nw-oscache-');
    const file = path.join(dir, 'shared.json');
    writeCache(file, { key: 'cloud-a', endpoint: 'http://a/v2.1', index: { fetchedAt: 1, hypervisors: [] } });
    expect(readCache(file, 'cloud-a')).toMatchObject({ endpoint: 'http://a/v2.1' });
    expect(readCache(file, 'cloud-b')).toBeUndefined();
    expect(readCache(path.join(dir, 'absent.json'), 'cloud-a')).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ key: 'cloud-a' });
  });
});
