// A rollout's nodes, every one, a page at a time (NODE_PAGE rows), filtered by phase, in rollout
// order: what the live region of a large rollout leaves out. Server-rendered, no live updates.
import { href, html, type Html } from '../html.js';
import { PHASES, type NodePage, type PhaseCounts } from '../rollout-rows.js';
import { nodesHref, nodeTable } from './rollout.js';

export function rolloutNodesView(o: { id: string; page: NodePage; counts: PhaseCounts; total: number; pruned: boolean }): Html {
  const p = o.page;
  const last = p.first + p.rows.length - 1;
  return html`<h1>Rollout <a href="${href('rollouts', o.id)}">${o.id}</a>: nodes</h1>
<form class="filters" method="get" action="${href('rollouts', o.id, 'nodes')}">
<label>Phase <select name="phase"><option value=""${p.phase === null ? html` selected` : null}>any (${o.total})</option>${PHASES.map(
    (ph) => html`<option value="${ph}"${p.phase === ph ? html` selected` : null}>${ph} (${o.counts[ph]})</option>`,
  )}</select></label>
<button type="submit">Filter</button>
</form>
${o.pruned ? html`<p class="muted">Per-node detail of this rollout was pruned by retention.</p>` : null}
<p class="muted" data-testid="node-range">${p.total === 0 ? 'No node matches.' : `Nodes ${p.first}–${last} of ${p.total}${p.phase ? ` ${p.phase}` : ''} · page ${p.page} of ${p.pages}`}</p>
${nodeTable(p.rows)}
<p class="pager">${p.page > 1 ? html`<a href="${nodesHref(o.id, p.phase, p.page - 1)}" rel="prev">Previous</a> ` : null}${p.page < p.pages ? html`<a href="${nodesHref(o.id, p.phase, p.page + 1)}" rel="next">Next</a>` : null}</p>`;
}
