// Read back `systemctl show -p Environment` (or `--value`): assignments separated by spaces;
// one that needs quoting is wrapped whole in "…" with \" \\ \` \$ and C escapes
// (\n \t \ooo …) inside — systemd's shell_maybe_quote().
import { NwError } from '../host/errors.js';

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

export function parseShowEnvironment(text: string): Record<string, string> {
  let s = text.replace(/\n+$/, '');
  const nl = s.indexOf('\n');
  if (nl >= 0) {
    // Several properties were shown: use the Environment= line.
    const line = s.split('\n').find((l) => l.startsWith('Environment='));
    if (line === undefined) throw bad(text, 'no Environment= line');
    s = line;
  }
  if (s.startsWith('Environment=')) s = s.slice('Environment='.length);
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ') {
      i++;
      continue;
    }
    const bytes: number[] = [];
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw bad(text, 'unterminated "');
        const c = s[i];
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\') {
          const n = s[i + 1];
          if (n === undefined) throw bad(text, 'backslash at end');
          if (n in C_ESCAPES) {
            bytes.push(C_ESCAPES[n]);
            i += 2;
          } else if (/[0-7]/.test(n)) {
            const oct = s.slice(i + 1, i + 4);
            if (!/^[0-7]{3}$/.test(oct)) throw bad(text, `bad octal escape \\${oct}`);
            bytes.push(parseInt(oct, 8));
            i += 4;
          } else {
            bytes.push(...Buffer.from(n));
            i += 2;
          }
          continue;
        }
        const cp = s.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        bytes.push(...Buffer.from(ch));
        i += ch.length;
      }
      if (i < s.length && s[i] !== ' ') throw bad(text, 'text right after a closing quote');
    } else {
      const end = s.indexOf(' ', i);
      const word = end < 0 ? s.slice(i) : s.slice(i, end);
      bytes.push(...Buffer.from(word));
      i += word.length;
    }
    const a = Buffer.from(bytes).toString('utf8');
    const eq = a.indexOf('=');
    if (eq <= 0) throw bad(text, `${JSON.stringify(a)} is not NAME=value`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

function bad(text: string, what: string): NwError {
  return new NwError(
    'NW_SYSTEMD',
    `cannot read systemctl show output (${what}): ${JSON.stringify(text.slice(0, 200))}; check the systemd version (252 expected)`,
  );
}
