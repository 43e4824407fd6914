// %-specifiers in Environment= words (systemd's unit_env_printf). We resolve the ones that
// depend only on the unit's name; host-dependent ones (%H, %m, …) stay as written and the
// result is marked unresolved; a letter systemd does not know makes systemd drop the word.

export interface SpecifierResult {
  text: string;
  /** Host-dependent specifiers left as written. */
  unresolved: string[];
}

export class SpecifierError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const HOST_DEPENDENT = new Set('aAbBCdEgGhHlLmMoqsStTuUvVwW'.split(''));

/** Specifiers that follow from the unit name alone (non-template units give an empty instance). */
export function nameSpecifiers(unitName: string): Record<string, string> {
  const dot = unitName.lastIndexOf('.');
  const base = dot > 0 ? unitName.slice(0, dot) : unitName;
  const at = base.indexOf('@');
  const prefix = at >= 0 ? base.slice(0, at) : base;
  const instance = at >= 0 ? base.slice(at + 1) : '';
  const dash = prefix.lastIndexOf('-');
  const last = dash >= 0 ? prefix.slice(dash + 1) : prefix;
  return {
    n: unitName,
    N: base,
    p: prefix,
    P: unescapeUnitName(prefix),
    i: instance,
    I: unescapeUnitName(instance),
    j: last,
    J: unescapeUnitName(last),
    f: '/' + unescapeUnitName(instance || prefix),
  };
}

/** systemd's unit_name_unescape(): '-' is '/', \xNN is a byte. */
export function unescapeUnitName(s: string): string {
  return s.replace(/-|\\x([0-9a-fA-F]{2})/g, (m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : '/'));
}

export function resolveSpecifiers(s: string, unitName: string): SpecifierResult {
  if (!s.includes('%')) return { text: s, unresolved: [] };
  const table = nameSpecifiers(unitName);
  let out = '';
  const unresolved: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === undefined) {
      out += '%'; // a stray % at the end stays
      break;
    }
    i++;
    if (n === '%') out += '%';
    else if (n in table) out += table[n];
    else if (HOST_DEPENDENT.has(n)) {
      out += '%' + n;
      unresolved.push('%' + n);
    } else throw new SpecifierError(i - 1, `%${n} is not a specifier systemd knows (write %% for a literal %)`);
  }
  return { text: out, unresolved };
}

/** Make a literal value safe from specifier expansion. */
export const escapePercent = (s: string): string => s.replace(/%/g, '%%');
