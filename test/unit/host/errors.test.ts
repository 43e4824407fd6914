import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, NwError, httpStatusOf } from '../../../host/errors.js';

describe('error catalogue', () => {
  it('docs/errors.md lists exactly the codes of host/errors.ts, with their HTTP status', () => {
    const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = Object.fromEntries([...page.matchAll(/^\| `(NW_[A-Z0-9_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]));
    expect(documented).toEqual({ ...ERROR_CATALOGUE });
  });

  it('every code maps to a 4xx or 5xx status', () => {
    for (const [code, status] of Object.entries(ERROR_CATALOGUE)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(httpStatusOf(new NwError('NW_AUTH', 'x').code)).toBe(401);
  });
});
