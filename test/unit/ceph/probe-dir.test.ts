// The quota probe's per-node directory name: one safe path segment per node, distinct nodes stay distinct.
import { describe, expect, it } from 'vitest';
import { probeDirName } from '../../../ceph/probe-quota.js';

describe('probeDirName', () => {
  it('keeps DNS names as they are', () => {
    expect(probeDirName('worker-a1.example.org')).toBe('worker-a1.example.org');
  });
  it('never climbs or nests: slashes and leading dots are replaced', () => {
    expect(probeDirName('../../etc')).toBe('__.._etc');
    expect(probeDirName('a/b')).toBe('a_b');
    expect(probeDirName('..')).toBe('_');
    expect(probeDirName('')).toBe('_');
  });
  it('two workers get two directories', () => {
    expect(probeDirName('nwagent1')).not.toBe(probeDirName('nwagent2'));
  });
});
