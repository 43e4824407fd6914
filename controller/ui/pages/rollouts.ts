// Rollouts: summaries newest first, a page at a time (the store's cursor), each linking to its page.
import type { RolloutPage } from '../../store/store.js';
import { href, html, query, type Html } from '../html.js';

export function rolloutsView(p: RolloutPage): Html {
  return html`<h1>Rollouts</h1>
<table id="rollouts"><thead><tr><th>Rollout</th><th>Phase</th><th>Target</th><th class="num">Wave</th><th class="num">Nodes done</th><th class="num">Failures</th><th>Started</th><th>Reason</th></tr></thead><tbody>
${p.rollouts.map((r) => html`<tr data-rollout="${r.id}"><td><a href="${href('rollouts', r.id)}">${r.id}</a></td><td class="state">${r.state}</td><td>${r.target}</td><td class="num">${Math.min(r.wave + 1, r.waveCount)}/${r.waveCount}</td><td class="num">${r.done}/${r.nodes}</td><td class="num">${r.failures}</td><td>${r.createdAt}</td><td class="msg">${r.reason ?? ''}</td></tr>`)}
</tbody></table>
${p.rollouts.length === 0 ? html`<p class="muted">No rollouts yet: start one with <code>nodewright rollout start</code>.</p>` : null}
${p.next ? html`<p class="pager"><a href="/ui/rollouts${query({ cursor: p.next })}" rel="next">Older</a></p>` : null}`;
}
