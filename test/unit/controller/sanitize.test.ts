// Agent text on its way into the store: no escapes or control characters, at most 1 KiB.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AGENT_TEXT_MAX_BYTES, agentText } from '../../../controller/fleet/sanitize.js';

describe('agentText', () => {
  it('removes terminal escape sequences whole, NUL and other controls; CR/LF/TAB become a space', () => {
    expect(agentText('\x1b[31mred\x1b[0m text')).toBe('red text');
    expect(agentText('title\x1b]0;owned\x07 done')).toBe('title done');
    expect(agentText('a\x00b\x07c\x7fd\x85e')).toBe('abcde');
    expect(agentText('8-bit CSI \x9b31mred')).toBe('8-bit CSI red');
    expect(agentText('line1\r\nline2\tx')).toBe('line1 line2 x');
    expect(agentText('fake\rNW_OK: all good')).toBe('fake NW_OK: all good');
    expect(agentText('bidi \u202egnp.exe')).toBe('bidi gnp.exe');
    expect(agentText('lone \ud800 surrogate')).toBe('lone  surrogate');
    expect(agentText('ünïcödé ✓ 漢字')).toBe('ünïcödé ✓ 漢字');
    expect(agentText(undefined)).toBe('');
    expect(agentText(42)).toBe('42');
  });

  it('cuts at 1 KiB of UTF-8 on a character boundary, with an ellipsis', () => {
    const long = agentText('x'.repeat(1_000_000));
    expect(Buffer.byteLength(long)).toBe(AGENT_TEXT_MAX_BYTES);
    expect(long.endsWith('…')).toBe(true);
    const wide = agentText('漢'.repeat(2000));
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(AGENT_TEXT_MAX_BYTES);
    expect(wide).toMatch(/^漢+…$/);
    expect(agentText('x'.repeat(AGENT_TEXT_MAX_BYTES))).toBe('x'.repeat(AGENT_TEXT_MAX_BYTES));
  });

  it('any input: bounded, no control character left', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 1500 }), fc.string({ unit: 'grapheme', maxLength: 1500 })), (s) => {
        const out = agentText(s);
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(AGENT_TEXT_MAX_BYTES);
        expect(out).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
        expect(agentText(out)).toBe(out); // idempotent
      }),
      { numRuns: 200 },
    );
  });
});
