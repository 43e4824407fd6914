// Canonical JSON: object keys sorted, no whitespace, so the same state always signs to the same bytes.
import { NwError } from '../host/errors.js';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new NwError('NW_BUNDLE', `cannot sign a non-finite number (${v})`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new NwError('NW_BUNDLE', `cannot sign a value of type ${typeof v}`);
}
