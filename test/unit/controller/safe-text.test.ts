// The CLI's output layer: text an agent chose never carries terminal controls to the operator's
// terminal; JSON output stays JSON (the same values, controls escaped).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatTable, out, printJson } from '../../../controller/commands/operator.js';
import { fieldText, jsonText, terminalText } from '../../../controller/commands/safe-text.js';

const HOSTILE = 'w1\x1b]0;owned\x07\x1b[2J\u009b31m\r\nfake line\u202eevil\x7f';
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const printed = () => {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  return chunks;
};
afterEach(() => vi.restoreAllMocks());

describe('safe text', () => {
  it('fields lose every control and line break; terminal lines keep their newlines', () => {
    expect(fieldText(HOSTILE)).toBe('w1]0;owned[2J31mfake lineevil');
    expect(terminalText(`a\tb\n${HOSTILE}`)).toBe('a\tb\nw1]0;owned[2J31m\nfake lineevil');
    expect(fieldText(null)).toBe('');
  });

  it('JSON escapes controls (C0, C1, bidi, U+2028) and parses back to the exact value', () => {
    const v = { hostname: HOSTILE, reason: 'a\u2028b', n: 1 };
    const text = jsonText(v, 2);
    expect(CONTROLS.test(text.replace(/\n/g, ''))).toBe(false);
    expect(text).toContain('\\u009b');
    expect(JSON.parse(text)).toEqual(v);
  });

  it('the printers: out, printJson and formatTable never write a control character', () => {
    const chunks = printed();
    out(formatTable(['NAME', 'REASON'], [[HOSTILE, HOSTILE]]));
    out(`node ${HOSTILE}`);
    printJson([{ name: HOSTILE }]);
    const all = chunks.join('');
    expect(CONTROLS.test(all)).toBe(false);
    // the table is two lines: a hostname cannot forge a row
    expect(chunks[0].trimEnd().split('\n')).toHaveLength(2);
    expect(JSON.parse(chunks[2])).toEqual([{ name: HOSTILE }]);
  });
});
