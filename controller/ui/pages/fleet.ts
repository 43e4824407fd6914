// Fleet: one tile per worker grouped by failure domain, ready/total and the worst state on top,
// a GET form of filters; live updates come as `fleet` events applied by /ui/static/ui.js.
import { STATES, type FleetFilter, type FleetSummary } from '../fleet-model.js';
import { href, html, query, type Html } from '../html.js';

const option = (value: string, text: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : null}>${text}</option>`;

export function fleetView(s: FleetSummary, f: FleetFilter, liveId: string): Html {
  const live = `/ui/live/fleet${query({ domain: f.domain, label: f.label, state: f.state, name: f.name, since: liveId })}`;
  const groups = s.groups.map(
    (g) => html`<section class="domain" data-domain="${g.domain}"><h2 data-worst="${g.worst}">${g.domain} <span class="count">${g.ready}/${g.total} ready</span> <span class="state worst" data-state="${g.worst}">${g.worst}</span></h2>
<div class="tiles">${g.tiles.map((t) => html`<a class="tile" data-node="${t.name}" data-state="${t.state}" href="${href('nodes', t.name)}" title="${t.title}"></a>`)}</div></section>
`,
  );
  return html`<h1>Fleet</h1>
<form class="filters" method="get" action="/ui/">
<label>Failure domain <select name="domain">${option('', 'all', !f.domain)}${s.domains.map((d) => option(d, d, d === f.domain))}</select></label>
<label>Label <input name="label" value="${f.label ?? ''}" placeholder="key=value"></label>
<label>State <select name="state">${option('', 'all', !f.state)}${STATES.map((st) => option(st, st, st === f.state))}</select></label>
<label>Node <input name="name" value="${f.name ?? ''}" placeholder="part of its name"></label>
<button type="submit">Filter</button>
</form>
<p class="summary" data-testid="fleet-summary" data-worst="${s.worst}"><strong class="count">${s.ready}/${s.total} ready</strong> · worst state: <span class="state worst" data-state="${s.worst}">${s.worst}</span></p>
<p class="legend">${STATES.map((st) => html`<span><a class="tile" data-state="${st}" aria-hidden="true"></a> ${st}</span>`)}</p>
<div id="fleet" data-fleet-live hx-sse:connect="${live}">
${s.groups.length ? groups : html`<p class="muted">No node matches.</p>`}
</div>`;
}
