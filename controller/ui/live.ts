// What the dashboard's live streams send, tick by tick (sse.ts runs the ticks): a page opened at
// the current revision (its `since`, or Last-Event-ID on a reconnect) is sent only what changes
// after; any other id — another boot of the controller, an older revision — first gets everything.
import type { Changes } from './changes.js';
import { fleetDelta, type FleetShown, type FleetSummary } from './fleet-model.js';
import type { SseMessage, StreamProducer } from './sse.js';

/** The fleet page: a named `fleet` event with the changed tiles and headers; the id alone when nothing it shows changed. */
export function fleetFeed(o: { changes: Changes; summary: () => FleetSummary; lastId: string | null | undefined }): StreamProducer {
  let shown: FleetShown | null = null;
  let rev = -1;
  if (o.changes.current(o.lastId)) {
    shown = fleetDelta(null, o.summary()).shown; // what the page shows: remembered, not sent
    rev = o.changes.revision;
  }
  return {
    next: async (): Promise<SseMessage[]> => {
      if (o.changes.revision === rev) return [];
      const id = o.changes.id;
      rev = o.changes.revision;
      const r = fleetDelta(shown, o.summary());
      shown = r.shown;
      // the id alone moves the page's Last-Event-ID on: a reconnect then needs no snapshot
      return [r.delta ? { id, event: 'fleet', data: JSON.stringify(r.delta) } : { id }];
    },
  };
}

/** A rendered live region, and whether a countdown runs in it (it is then rendered again every second). */
export interface Region { text: string; countdown: boolean }

/**
 * One render of a page's region shared by all its open streams: within one change revision and one
 * wall-clock second, every stream of the same page gets the same region (a countdown re-renders each
 * second; ten open pages of a large rollout then cost one store read and one render, not ten).
 */
export function sharedRegions(o: { changes: Changes; now?: () => number; max?: number }): (page: string, render: () => Promise<Region>) => Promise<Region> {
  const now = o.now ?? Date.now;
  const max = o.max ?? 64;
  const last = new Map<string, { key: string; region: Promise<Region> }>();
  return (page, render) => {
    const key = `${o.changes.revision}:${Math.floor(now() / 1000)}`;
    const hit = last.get(page);
    if (hit?.key === key) return hit.region;
    const entry = { key, region: render() };
    if (last.size >= max) last.clear();
    last.set(page, entry);
    entry.region.catch(() => {
      if (last.get(page) === entry) last.delete(page); // a failed render is not kept
    });
    return entry.region;
  };
}

/** The rollout page: the re-rendered #rollout-live region when it differs from the last one sent. */
export function regionFeed(o: { changes: Changes; render: () => Promise<Region>; lastId: string | null | undefined; now?: () => number; everyMs?: number }): StreamProducer {
  const now = o.now ?? Date.now;
  const everyMs = o.everyMs ?? 1000;
  const shown = o.changes.current(o.lastId);
  let rev = shown ? o.changes.revision : -1;
  let sent: string | null = null;
  let countdown = true; // until the first render says whether one runs
  let renderedAt = -Infinity;
  return {
    next: async (): Promise<SseMessage[]> => {
      const moved = o.changes.revision !== rev;
      if (!moved && !(countdown && now() - renderedAt >= everyMs)) return [];
      const id = o.changes.id;
      rev = o.changes.revision;
      const r = await o.render();
      countdown = r.countdown;
      renderedAt = now();
      if (sent === null && shown && !moved) {
        sent = r.text; // what the page shows already
        return [];
      }
      if (r.text === sent) return [];
      sent = r.text;
      return [{ id, data: r.text }];
    },
  };
}
