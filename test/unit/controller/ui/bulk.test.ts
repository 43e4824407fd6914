// Bulk actions' planning: which rows are selectable, which rollouts "Pause all running" applies to,
// the request's ids checked (none, too many, malformed, all with another command), repeated form keys.
import { describe, expect, it } from 'vitest';
import { BULK_MAX, bulkApplies, bulkRequest, bulkTargets, parseForm, selectable } from '../../../../controller/ui/bulk.js';
import type { RolloutState } from '../../../../controller/rollout/engine.js';

const STATES: RolloutState['state'][] = ['running', 'waiting', 'paused', 'halted', 'completed', 'aborted'];
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

describe('bulk planning', () => {
  it('each command applies to the phases the engine accepts it in; finished rollouts get no checkbox', () => {
    expect(STATES.filter((s) => bulkApplies('pause', s))).toEqual(['running', 'waiting']);
    expect(STATES.filter((s) => bulkApplies('resume', s))).toEqual(['paused']);
    expect(STATES.filter((s) => bulkApplies('abort', s))).toEqual(['running', 'waiting', 'paused', 'halted']);
    expect(STATES.filter((state) => selectable({ state }))).toEqual(['running', 'waiting', 'paused', 'halted']);
  });

  it('Pause all running: every running or waiting rollout, in order, nothing else', () => {
    const s = STATES.map((state, i) => ({ id: `r-${i}`, state }));
    expect(bulkTargets('pause', s)).toEqual(['r-0', 'r-1']);
    expect(bulkTargets('pause', [])).toEqual([]);
  });

  it('the request: ids (one or repeated, duplicates dropped), all=1 for pause only; none, too many or malformed → NW_USAGE', () => {
    expect(bulkRequest('abort', { ids: 'r-1' })).toEqual({ all: false, ids: ['r-1'] });
    expect(bulkRequest('resume', { ids: ['r-1', 'r-2', 'r-1'] })).toEqual({ all: false, ids: ['r-1', 'r-2'] });
    expect(bulkRequest('pause', { all: '1', ids: ['r-1'] })).toEqual({ all: true });
    expect(code(() => bulkRequest('resume', { all: '1' }))).toBe('NW_USAGE');
    expect(code(() => bulkRequest('pause', {}))).toBe('NW_USAGE');
    expect(code(() => bulkRequest('pause', null))).toBe('NW_USAGE');
    expect(code(() => bulkRequest('pause', { ids: ['r-1', '../x'] }))).toBe('NW_USAGE');
    const many = Array.from({ length: BULK_MAX + 1 }, (_, i) => `r-${i}`);
    expect(code(() => bulkRequest('pause', { ids: many }))).toBe('NW_USAGE');
    expect(bulkRequest('pause', { ids: many.slice(0, BULK_MAX) })).toMatchObject({ ids: { length: BULK_MAX } });
  });

  it('a url-encoded form keeps a repeated key as an array and a single one as a string', () => {
    expect({ ...parseForm('ids=a&ids=b&_csrf=t&ids=c') }).toEqual({ ids: ['a', 'b', 'c'], _csrf: 't' });
    expect({ ...parseForm('ids=a') }).toEqual({ ids: 'a' });
    expect({ ...parseForm('') }).toEqual({});
  });
});
