// Rollouts: summaries newest first, a page at a time (the store's cursor), each linking to its page;
// a checkbox on each rollout a bulk action applies to, and Pause / Resume / Abort selected and
// Pause all running (the fleet-wide stop). The region #rollouts-live is what a bulk action answers:
// its outcome per rollout and the rows re-rendered.
import type { RolloutPage } from '../../store/store.js';
import { BULK_COMMANDS, selectable, type BulkCommand, type BulkOutcome } from '../bulk.js';
import { href, html, query, type Html } from '../html.js';

export interface RolloutsOptions {
  /** Rollouts in the fleet "Pause all running" applies to. */
  running: number;
  /** The page's cursor (the bulk answer re-renders the same page). */
  cursor: string | null;
  outcomes?: { kind: BulkCommand; list: BulkOutcome[] } | null;
}

const LABEL: Record<BulkCommand, string> = { pause: 'Pause selected', resume: 'Resume selected', abort: 'Abort selected' };
const plural = (k: number) => `${k} rollout${k === 1 ? '' : 's'}`;
/** The confirmation of a "selected" button: ui.js (client/bulk.ts) puts the count of ticked boxes for {n} as they change. */
const CONFIRM: Record<BulkCommand, string> = {
  pause: 'Pause {n}? No new node is started until each is resumed.',
  resume: 'Resume {n}?',
  abort: 'Abort {n}? Pending nodes are skipped; nodes already changed keep the new state.',
};
export const bulkConfirm = (kind: BulkCommand, k: number): string => CONFIRM[kind].replace('{n}', plural(k));

function outcomesView(o: NonNullable<RolloutsOptions['outcomes']>): Html {
  const done = o.list.filter((x) => x.done).length;
  return html`<div class="bulk-result" data-testid="bulk-result"><p><strong>${o.kind}</strong>: ${done} done, ${o.list.length - done} refused${o.list.length === 0 ? ' (nothing to do)' : ''}</p>
<ul>${o.list.map((x) => html`<li data-bulk-id="${x.id}" data-outcome="${x.done ? 'done' : 'refused'}"><a href="${href('rollouts', x.id)}">${x.id}</a>: ${x.done ? html`done` : html`refused — <strong>${x.code}</strong>: ${x.message}`}</li>`)}</ul></div>`;
}

function bulkButtons(): Html {
  return html`<div class="actions bulk">${BULK_COMMANDS.map(
    (k) => html`<button type="button" class="${k === 'abort' ? 'danger' : ''}" data-bulk="${k}" data-confirm="${CONFIRM[k]}" hx-post="${href('rollouts', 'bulk', k)}" hx-confirm="${bulkConfirm(k, 0)}" hx-target="#rollouts-live" hx-swap="innerHTML">${LABEL[k]}</button>`,
  )}</div>`;
}

/** The inside of #rollouts-live. */
export function rolloutsLive(p: RolloutPage, o: RolloutsOptions): Html {
  // the fleet-wide stop: every rollout pause applies to, on any page (not only the ticked ones)
  const stop = o.running > 0
    ? html`<p class="actions"><button type="button" class="danger" data-testid="pause-all" hx-post="${href('rollouts', 'bulk', 'pause')}" hx-vals='{"all":"1"}' hx-confirm="${`Pause all ${plural(o.running)} running in the fleet? No new node is started until each is resumed.`}" hx-target="#rollouts-live" hx-swap="innerHTML">Pause all running</button></p>`
    : null;
  return html`${o.outcomes ? outcomesView(o.outcomes) : null}
<form id="bulk">${stop}${o.cursor ? html`<input type="hidden" name="cursor" value="${o.cursor}">` : null}
${p.rollouts.length ? bulkButtons() : null}
<table id="rollouts"><thead><tr><th>Select</th><th>Rollout</th><th>Phase</th><th>Target</th><th class="num">Wave</th><th class="num">Nodes done</th><th class="num">Failures</th><th>Started</th><th>Reason</th></tr></thead><tbody>
${p.rollouts.map((r) => html`<tr data-rollout="${r.id}"><td>${selectable(r) ? html`<input type="checkbox" name="ids" value="${r.id}" aria-label="select ${r.id}">` : null}</td><td><a href="${href('rollouts', r.id)}">${r.id}</a></td><td class="state">${r.state}</td><td>${r.target}</td><td class="num">${Math.min(r.wave + 1, r.waveCount)}/${r.waveCount}</td><td class="num">${r.done}/${r.nodes}</td><td class="num">${r.failures}</td><td>${r.createdAt}</td><td class="msg">${r.reason ?? ''}</td></tr>`)}
</tbody></table></form>`;
}

export function rolloutsView(p: RolloutPage, o: RolloutsOptions): Html {
  return html`<h1>Rollouts</h1>
<div id="rollouts-live">
${rolloutsLive(p, o)}
</div>
${p.rollouts.length === 0 ? html`<p class="muted">No rollouts yet: start one with <code>nodewright rollout start</code>.</p>` : null}
${p.next ? html`<p class="pager"><a href="/ui/rollouts${query({ cursor: p.next })}" rel="next">Older</a></p>` : null}`;
}
