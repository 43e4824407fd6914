// queryEvents as SQL, the same for both adapters: newest first, each filter an index walk
// (migrations 5 / pg 6). A kind ending in '.' is a prefix, matched as a byte range so the
// index serves it ('rollout.' → 'rollout.' ≤ kind < 'rollout/').
import type { EventQuery } from './store.js';

export const EVENT_PAGE_MAX = 1000;

export interface EventSql { sql: string; params: unknown[] }

/** `placeholder(i)` is the adapter's i-th parameter (1-based); `collate` makes comparisons byte-wise. */
export function eventQuerySql(q: EventQuery, placeholder: (i: number) => string, collate = ''): EventSql {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, op: string, value: unknown) => {
    params.push(value);
    where.push(`${column}${collate} ${op} ${placeholder(params.length)}`);
  };
  if (q.subject) add('subject', '=', q.subject);
  if (q.actor) add('actor', '=', q.actor);
  if (q.kind) {
    if (q.kind.endsWith('.')) {
      add('kind', '>=', q.kind);
      add('kind', '<', `${q.kind.slice(0, -1)}/`);
    } else {
      add('kind', '=', q.kind);
    }
  }
  if (q.beforeId !== undefined && Number.isFinite(q.beforeId)) {
    params.push(Math.trunc(q.beforeId));
    where.push(`id < ${placeholder(params.length)}`);
  }
  params.push(Math.min(Math.max(Math.trunc(q.limit) || 1, 1), EVENT_PAGE_MAX));
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')} ` : '';
  return { sql: `SELECT * FROM events ${filter}ORDER BY id DESC LIMIT ${placeholder(params.length)}`, params };
}
