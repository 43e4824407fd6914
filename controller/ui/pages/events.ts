// Events: the audit log newest first, filtered by subject, actor and kind (exact, or a prefix
// ending in '.'), a page at a time (Older).
import type { ControllerEvent } from '../../store/store.js';
import { html, query, type Html } from '../html.js';

export interface EventFilter { subject?: string; actor?: string; kind?: string }

export const eventRows = (events: ControllerEvent[]): Html[] =>
  events.map((e) => html`<tr data-event="${e.id}"><td>${e.at}</td><td>${e.actor}</td><td>${e.kind}</td><td>${e.subject}</td><td class="msg">${e.message}</td></tr>`);

export function eventsView(events: ControllerEvent[], f: EventFilter, older: number | null): Html {
  return html`<h1>Events</h1>
<form class="filters" method="get" action="/ui/events">
<label>Subject <input name="subject" value="${f.subject ?? ''}"></label>
<label>Actor <input name="actor" value="${f.actor ?? ''}" placeholder="operator:alice"></label>
<label>Kind <input name="kind" value="${f.kind ?? ''}" placeholder="rollout."></label>
<button type="submit">Filter</button>
</form>
<table id="events"><thead><tr><th>At</th><th>Actor</th><th>Kind</th><th>Subject</th><th>Message</th></tr></thead><tbody>
${eventRows(events)}
</tbody></table>
${events.length === 0 ? html`<p class="muted">No events.</p>` : null}
${older !== null ? html`<p class="pager"><a href="/ui/events${query({ ...f, before: older })}" rel="next">Older</a></p>` : null}`;
}
