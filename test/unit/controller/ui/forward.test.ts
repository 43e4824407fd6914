import { describe, expect, it } from 'vitest';
import { forwardedActor } from '../../../../controller/ui/forward.js';

describe('forwardedActor: the operator a controller forwards a dashboard command for', () => {
  it('takes role:name', () => {
    expect(forwardedActor('operator:alice')).toBe('operator:alice');
    expect(forwardedActor('operator:ops.team-1@example')).toBe('operator:ops.team-1@example');
  });
  it('refuses a missing, repeated or malformed header (NW_USAGE)', () => {
    for (const h of [undefined, '', 'alice', ['operator:a', 'operator:b'], 'operator:a b', 'operator:a\nx', `operator:${'a'.repeat(254)}`, 'Operator:alice']) {
      expect(() => forwardedActor(h)).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
    }
  });
});
