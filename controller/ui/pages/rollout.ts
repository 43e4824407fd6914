// Rollout: the live region (#rollout-live, re-rendered by SSE and answered by every action) with
// the phase, the nodes per phase, the waves strip, what it waits for and the time left, the real
// reason, the failure budget, the actions that apply and the rows that need an operator (every row
// of a small rollout); then the strategy. Every node, a page at a time: rollout-nodes.ts.
import { href, html, query, type Html } from '../html.js';
import type { RolloutAction, RolloutModel } from '../rollout-model.js';
import { NODE_PAGE, PHASES, type NodeRow } from '../rollout-rows.js';
import type { WaveBox } from '../wave-strip.js';

const LABEL: Record<RolloutAction, string> = { pause: 'Pause', resume: 'Resume', abort: 'Abort', rollback: 'Rollback' };
const CONFIRM: Record<RolloutAction, string> = {
  pause: 'Pause rollout %? No new node is started until it is resumed.',
  resume: 'Resume rollout %?',
  abort: 'Abort rollout %? Pending nodes are skipped; nodes already changed keep the new state.',
  rollback: 'Roll back rollout %? Every node that got the target goes back to its previous desired state.',
};

function actions(m: RolloutModel): Html {
  if (m.actions.length === 0) return html``;
  return html`<div class="actions">${m.actions.map(
    (a) => html`<button type="button" class="${a === 'abort' || a === 'rollback' ? 'danger' : ''}" hx-post="${href('rollouts', m.id, a)}" hx-confirm="${CONFIRM[a].replace('%', m.id)}" hx-target="#rollout-live" hx-swap="innerHTML">${LABEL[a]}</button>`,
  )}</div>`;
}

/** Rows of a rollout's node table (the live region's and the node list's alike). */
export const nodeRows = (rows: NodeRow[]): Html[] =>
  rows.map((n) => html`<tr data-node="${n.name}"><td><a href="${href('nodes', n.name)}">${n.name}</a></td><td class="num">${n.wave}</td><td class="phase">${n.phase}</td><td>${n.domain}</td><td class="num">${n.generation ?? '—'}</td><td class="msg">${n.reason ?? ''}</td></tr>`);

export const nodeTable = (rows: NodeRow[]): Html => html`<table id="rollout-nodes"><thead><tr><th>Node</th><th class="num">Wave</th><th>Phase</th><th>Failure domain</th><th class="num">Generation</th><th>Reason</th></tr></thead><tbody>
${nodeRows(rows)}
</tbody></table>`;

const NODE_PAGE_TEXT = `${NODE_PAGE} a page`;
/** 4,750 (without Intl: it pages in ICU data). */
const count = (k: number) => String(k).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
export const nodesHref = (id: string, phase: string | null = null, page: number | null = null) => `${href('rollouts', id, 'nodes')}${query({ phase, page })}`;

function waveBox(w: WaveBox): Html {
  if (w.from === w.to) return html`<div class="wave" data-wave="${w.from}" data-state="${w.state}" title="wave ${w.from}: ${w.state}">wave ${w.from} · ${w.done}/${w.nodes} · ${w.state}</div>`;
  return html`<div class="wave range" data-waves="${w.from}-${w.to}" data-state="${w.state}" title="waves ${w.from}–${w.to}: ${w.state}">waves ${w.from}–${w.to} · ${count(w.done)}/${count(w.nodes)} · ${w.state}</div>`;
}

function phaseCounts(m: RolloutModel): Html {
  return html`<ul class="counts" data-testid="phase-counts">${PHASES.map(
    (p) => html`<li data-phase="${p}" data-count="${m.counts[p]}"${m.counts[p] === 0 ? html` class="zero"` : null}><a href="${nodesHref(m.id, p)}">${p}</a> <strong>${count(m.counts[p])}</strong></li>`,
  )}<li data-phase="all" data-count="${m.total}"><a href="${nodesHref(m.id)}">all</a> <strong>${count(m.total)}</strong></li></ul>`;
}

function rowsPart(m: RolloutModel): Html {
  if (m.allRows) return html`${nodeTable(m.rows)}`;
  return html`<h3>Nodes failed, rolling back, in flight or held</h3>
${m.rows.length ? nodeTable(m.rows) : html`<p class="muted">None: no node is failed, rolling back, in flight or held.</p>`}
${m.moreRows ? html`<p class="more" data-testid="more-rows">and ${count(m.moreRows)} more: <a href="${nodesHref(m.id)}">all ${count(m.total)} nodes</a></p>` : null}`;
}

/** The inside of #rollout-live (on a follower too: its actions are forwarded to the leader). */
export function rolloutLive(m: RolloutModel): Html {
  const r = m.reason;
  return html`<p class="summary">Phase: <strong class="state" data-testid="rollout-phase">${m.phase}</strong> <span class="muted">· updated ${m.updatedAt}</span>${m.pruned ? html` <span class="muted">(per-node detail pruned by retention)</span>` : null}</p>
${phaseCounts(m)}
<div class="waves" aria-label="waves">${m.strip.map(waveBox)}</div>
${r ? html`<div class="reason" data-testid="reason"><strong>${r.node ? `Node ${r.node}` : 'Why'}</strong>${r.check ? html` — check: <strong>${r.check}</strong>` : null}${r.message ? html`<br>agent says: <span class="msg">${r.message}</span>` : null}<br><span class="muted">${r.text}</span></div>` : null}
<dl class="facts">
<dt>Waits for</dt><dd><ul data-testid="waits-for">${m.waitsFor.map((w) => html`<li>${w}</li>`)}</ul>${m.waitsFor.length === 0 ? html`<span class="muted">nothing</span>` : null}${m.moreWaitsFor ? html`<span class="muted">and ${count(m.moreWaitsFor)} more</span>` : null}</dd>
<dt>Time left</dt><dd data-testid="time-left">${m.timeLeft ?? '—'}</dd>
<dt>Failure budget</dt><dd data-testid="budget">${m.budget.used} used of ${m.budget.allowed} allowed</dd>
</dl>
${actions(m)}
${rowsPart(m)}
<p class="pager"><a href="${nodesHref(m.id)}">Every node, ${NODE_PAGE_TEXT}</a></p>`;
}

export function rolloutView(m: RolloutModel, live: Html, liveUrl: string): Html {
  return html`<h1>Rollout ${m.id}</h1>
<p class="muted">${m.target} · started ${m.createdAt}</p>
${m.domainNote ? html`<p class="muted">${m.domainNote}</p>` : null}
<div id="rollout-live" hx-sse:connect="${liveUrl}">
${live}
</div>
<h2>Strategy</h2>
<dl class="facts" data-testid="strategy">${m.strategy.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}
