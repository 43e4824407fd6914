// The word syntax of an Environment= value, exactly as systemd 252's extract_first_word()
// reads it with EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE: words split on whitespace, "…" and '…'
// may open and close anywhere inside a word, a backslash starts a C escape (also inside
// single quotes), and anything else systemd rejects is an EnvSyntaxError at its index.
// Every decoded character remembers where it came from, so an edit can touch only its bytes.

export type QuoteCtx = '' | '"' | "'";

/** One decoded character (or escape sequence) and its span in the logical value. */
export interface DecodedUnit {
  text: string;
  start: number;
  end: number;
  ctx: QuoteCtx;
}

export interface EnvWord {
  /** Span of the whole word (quotes included) in the logical value. */
  start: number;
  end: number;
  units: DecodedUnit[];
  /** Decoded text, before specifier expansion: "NAME=value". */
  text: string;
}

export class EnvSyntaxError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

export const WHITESPACE = ' \t\n\r';
const isWs = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const hexVal = (c: string | undefined) => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1);
const octVal = (c: string | undefined) => (c !== undefined && /^[0-7]$/.test(c) ? c.charCodeAt(0) - 48 : -1);

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
  s: ' ',
};

interface Escape {
  length: number; // characters after the backslash
  codePoint?: number;
  byte?: number; // \xNN and \NNN give raw bytes
}

/** systemd's cunescape_one() without accept_nul; null when systemd would reject it. */
function cunescapeOne(v: string, i: number): Escape | null {
  const c = v[i];
  if (c === undefined) return null;
  if (c in SIMPLE_ESCAPES) return { length: 1, codePoint: SIMPLE_ESCAPES[c].charCodeAt(0) };
  if (c === 'x') {
    const a = hexVal(v[i + 1]);
    const b = hexVal(v[i + 2]);
    if (a < 0 || b < 0 || (a === 0 && b === 0)) return null;
    return { length: 3, byte: (a << 4) | b };
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    let cp = 0;
    for (let k = 1; k <= n; k++) {
      const h = hexVal(v[i + k]);
      if (h < 0) return null;
      cp = cp * 16 + h;
    }
    if (cp === 0) return null;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    return { length: n + 1, codePoint: cp };
  }
  if (/^[0-7]$/.test(c)) {
    const a = octVal(v[i]);
    const b = octVal(v[i + 1]);
    const d = octVal(v[i + 2]);
    if (a < 0 || b < 0 || d < 0) return null;
    const m = (a << 6) | (b << 3) | d;
    if (m === 0 || m > 255) return null;
    return { length: 3, byte: m };
  }
  return null;
}

/** Collects raw bytes from \x/\NNN escapes into whole UTF-8 characters. */
class ByteAssembler {
  private bytes: number[] = [];
  private start = 0;
  private ctx: QuoteCtx = '';
  constructor(private readonly out: DecodedUnit[]) {}
  pending(): boolean {
    return this.bytes.length > 0;
  }
  push(b: number, start: number, end: number, ctx: QuoteCtx): void {
    if (this.bytes.length === 0) {
      if (b < 0x80) {
        this.out.push({ text: String.fromCharCode(b), start, end, ctx });
        return;
      }
      this.start = start;
      this.ctx = ctx;
    }
    this.bytes.push(b);
    const need = utf8Length(this.bytes[0]);
    if (need === 0) throw new EnvSyntaxError(start, 'escape gives a byte that does not start a UTF-8 character');
    if (this.bytes.length === need) {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(this.bytes));
      } catch {
        throw new EnvSyntaxError(start, 'escapes give bytes that are not valid UTF-8');
      }
      this.out.push({ text, start: this.start, end, ctx: this.ctx });
      this.bytes = [];
    }
  }
  check(at: number): void {
    if (this.bytes.length) throw new EnvSyntaxError(at, 'escapes give an incomplete UTF-8 character');
  }
}

function utf8Length(b: number): number {
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/** Split an Environment= value into words the way systemd does; throws EnvSyntaxError. */
export function splitEnvironmentWords(v: string): EnvWord[] {
  const words: EnvWord[] = [];
  let i = 0;
  for (;;) {
    while (i < v.length && isWs(v[i])) i++;
    if (i >= v.length) return words;
    const start = i;
    const units: DecodedUnit[] = [];
    const bytes = new ByteAssembler(units);
    let quote: QuoteCtx = '';
    let quoteAt = -1;
    for (;;) {
      const c = v[i];
      if (c === undefined) {
        if (quote) {
          throw new EnvSyntaxError(
            quoteAt,
            `the ${quote === '"' ? 'double' : 'single'} quote opened here is never closed`,
          );
        }
        break;
      }
      if (c === '\\') {
        const e = cunescapeOne(v, i + 1);
        if (!e) {
          const next = v[i + 1];
          throw new EnvSyntaxError(
            i,
            next === undefined
              ? 'a backslash ends the value'
              : `\\${next === ' ' ? '<space>' : next === '\t' ? '<tab>' : next} is not an escape systemd accepts (write \\\\ for a backslash)`,
          );
        }
        const end = i + 1 + e.length;
        if (e.byte !== undefined) bytes.push(e.byte, i, end, quote);
        else {
          bytes.check(i);
          units.push({ text: String.fromCodePoint(e.codePoint!), start: i, end, ctx: quote });
        }
        i = end;
        continue;
      }
      if (quote) {
        if (c === quote) {
          quote = '';
          i++;
          continue;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        quoteAt = i;
        i++;
        continue;
      } else if (isWs(c)) break;
      bytes.check(i);
      units.push({ text: c, start: i, end: i + 1, ctx: quote });
      i++;
    }
    bytes.check(i);
    words.push({ start, end: i, units, text: units.map((u) => u.text).join('') });
  }
}

/** Encode text so that, read in quoting context ctx, it decodes back to itself. */
export function encodeChars(s: string, ctx: QuoteCtx): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"' && ctx !== "'") out += '\\"';
    else if (ch === "'" && ctx !== '"') out += "\\'";
    else if (ch === ' ' && ctx === '') out += '\\s';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** A whole word, double-quoted: "NAME=value". */
export const quoteWord = (s: string): string => `"${encodeChars(s, '"')}"`;

export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
