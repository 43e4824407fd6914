import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CATALOGUE, NwError, asNwError, httpStatusOf } from '../../../host/errors.js';

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

describe('NwError across bundles', () => {
  it('instanceof holds for an error made by another copy of the class (a side bundle), and not for a plain Error', async () => {
    vi.resetModules();
    const { NwError: Copy } = await import('../../../host/errors.js');
    const e = new Copy('NW_PKI', 'from a copy');
    expect(Copy).not.toBe(NwError);
    expect(e instanceof NwError).toBe(true);
    expect(new Error('x') instanceof NwError).toBe(false);
    expect(asNwError(e)).toBe(e);
  });
});
