import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { acceptedGenerationOf, checkAcceptance, desiredDigest, type AgentIdentity } from '../../../agent/acceptance.js';
import type { DesiredState } from '../../../protocol/desired.js';

const KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';
const state = (generation: number, over: Partial<DesiredState> = {}): DesiredState => ({
  schema: 1,
  generation,
  ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['10.0.0.1:6789'], clientId: 'k8s', keyring: KEYRING },
  ...over,
});
const me: AgentIdentity = { node: 'w1', nodeGroup: 'workers-a' };
const now = new Date('2026-12-01T12:00:00Z');

const codeOf = (f: () => unknown) => {
  try {
    return f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('checkAcceptance: generations', () => {
  test('nothing held, or a higher generation: new', () => {
    expect(checkAcceptance(null, state(1), me, now)).toBe('new');
    expect(checkAcceptance(acceptedGenerationOf(state(4)), state(5), me, now)).toBe('new');
  });

  test('an older generation is NW_STALE and names both generations and how to roll back', () => {
    let err: any;
    try {
      checkAcceptance(acceptedGenerationOf(state(5)), state(4), me, now);
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('NW_STALE');
    expect(err.message).toMatch(/generation 4 is older than generation 5.*new generation above 5/);
  });

  test('the same generation and content is the same bundle, whatever the key order', () => {
    const held = acceptedGenerationOf(state(3, { nodeGroup: 'workers-a' }));
    const reordered = Object.fromEntries(Object.entries(state(3, { nodeGroup: 'workers-a' })).reverse()) as DesiredState;
    expect(checkAcceptance(held, reordered, me, now)).toBe('same');
  });

  test('the same generation with other content is NW_GENERATION_CONFLICT', () => {
    const held = acceptedGenerationOf(state(3));
    const other = state(3, { ceph: { ...state(3).ceph!, monHost: ['10.0.0.2:6789'] } });
    expect(codeOf(() => checkAcceptance(held, other, me, now))).toBe('NW_GENERATION_CONFLICT');
  });

  test('property: the verdict follows the generation order alone, and equal content is the only way to reuse one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (heldGen, gen, sameContent) => {
        const held = acceptedGenerationOf(state(heldGen));
        const incoming = sameContent ? state(gen) : state(gen, { runtime: 'native' });
        const v = codeOf(() => checkAcceptance(held, incoming, me, now));
        if (gen > heldGen) expect(v).toBe('new');
        else if (gen < heldGen) expect(v).toBe('NW_STALE');
        else expect(v).toBe(sameContent ? 'same' : 'NW_GENERATION_CONFLICT');
      }),
    );
  });

  test('the digest is over the canonical content', () => {
    expect(desiredDigest(state(1))).toMatch(/^[0-9a-f]{64}$/);
    expect(desiredDigest(state(1))).not.toBe(desiredDigest(state(2)));
  });
});

describe('checkAcceptance: expiry (notAfter, host clock)', () => {
  test('before or at notAfter: accepted; after: NW_EXPIRED with both instants', () => {
    expect(checkAcceptance(null, state(1, { notAfter: '2026-12-01T12:00:00Z' }), me, now)).toBe('new');
    expect(checkAcceptance(null, state(1, { notAfter: '2027-01-01T00:00:00Z' }), me, now)).toBe('new');
    let err: any;
    try {
      checkAcceptance(null, state(1, { notAfter: '2026-12-01T11:59:59Z' }), me, now);
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('NW_EXPIRED');
    expect(err.message).toContain('2026-12-01T11:59:59Z');
    expect(err.message).toContain(now.toISOString());
  });

  test('an expired re-post of the held content is refused too (it is not "accepted")', () => {
    const d = state(2, { notAfter: '2026-12-01T11:00:00Z' });
    expect(codeOf(() => checkAcceptance(acceptedGenerationOf(d), d, me, now))).toBe('NW_EXPIRED');
  });
});

describe('checkAcceptance: target binding', () => {
  test('unbound bundles go to any agent', () => {
    expect(checkAcceptance(null, state(1), { node: 'x', nodeGroup: null }, now)).toBe('new');
  });

  test('nodeGroup must equal the agent\'s; an agent without a group refuses a bound bundle', () => {
    expect(checkAcceptance(null, state(1, { nodeGroup: 'workers-a' }), me, now)).toBe('new');
    expect(codeOf(() => checkAcceptance(null, state(1, { nodeGroup: 'workers-b' }), me, now))).toBe('NW_TARGET');
    let msg = '';
    try {
      checkAcceptance(null, state(1, { nodeGroup: 'workers-a' }), { node: 'w1', nodeGroup: null }, now);
    } catch (e) {
      msg = `${(e as any).code}: ${(e as Error).message}`;
    }
    expect(msg).toMatch(/^NW_TARGET: .*no nodeGroup in agent\.yaml.*nodeGroup: workers-a/);
  });

  test('nodes must include the agent\'s node name', () => {
    expect(checkAcceptance(null, state(1, { nodes: ['w0', 'w1'] }), me, now)).toBe('new');
    expect(codeOf(() => checkAcceptance(null, state(1, { nodes: ['w0', 'w2'] }), me, now))).toBe('NW_TARGET');
    expect(codeOf(() => checkAcceptance(null, state(1, { nodeGroup: 'workers-a', nodes: ['w2'] }), me, now))).toBe('NW_TARGET');
  });

  test('a bundle for another target is NW_TARGET even when its generation would be stale', () => {
    expect(codeOf(() => checkAcceptance(acceptedGenerationOf(state(9)), state(1, { nodeGroup: 'workers-b' }), me, now))).toBe('NW_TARGET');
  });
});
