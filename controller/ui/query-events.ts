// STAND-IN until Store.queryEvents lands (dashboard contract): the audit log newest first,
// filtered, before an id — read whole from listEvents. Replaced by `(q) => store.queryEvents(q)`.
import type { ControllerEvent, Store } from '../store/store.js';
import type { EventQuery } from './routes.js';

export function queryEventsOf(store: Store): (q: EventQuery) => Promise<ControllerEvent[]> {
  return async (q) => {
    const all = await store.listEvents({ afterId: 0, limit: 1_000_000 });
    const kind = (k: string) => (q.kind === undefined ? true : q.kind.endsWith('.') ? k.startsWith(q.kind) : k === q.kind);
    return all
      .filter((e) => (q.subject === undefined || e.subject === q.subject) && (q.actor === undefined || e.actor === q.actor) && kind(e.kind) && (q.beforeId === undefined || e.id < q.beforeId))
      .reverse()
      .slice(0, q.limit);
  };
}
