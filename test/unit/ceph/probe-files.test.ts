// The quota probe's per-node file names: each worker's prefix matches only its own files.
import { describe, expect, it } from 'vitest';
import { probeFilePrefix, probeNodeTag } from '../../../ceph/probe-quota.js';

// find -name PREFIX* as a regexp (the tags carry no glob characters)
const mine = (node: string, file: string) => file.startsWith(probeFilePrefix(node));

describe('quota probe files per node', () => {
  it('DNS names are kept; anything that could nest, separate or glob is replaced', () => {
    expect(probeNodeTag('worker-a1.example.org')).toBe('worker-a1.example.org');
    expect(probeNodeTag('../x')).toBe('.._x');
    expect(probeNodeTag('a@b*c?[d]')).toBe('a_b_c__d_');
    expect(probeNodeTag('')).toBe('_');
  });
  it('a node never matches another node\'s files, also when one name is a prefix of the other', () => {
    const a = `${probeFilePrefix('w1')}0a1b2c3d-1`;
    const b = `${probeFilePrefix('w1.b')}0a1b2c3d-1`;
    const c = `${probeFilePrefix('w10')}0a1b2c3d-1`;
    expect(mine('w1', a)).toBe(true);
    expect(mine('w1', b)).toBe(false);
    expect(mine('w1', c)).toBe(false);
    expect(mine('w1.b', a)).toBe(false);
    expect(a).not.toContain('/');
  });
});
