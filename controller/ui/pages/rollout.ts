// Rollout: the live region (#rollout-live, re-rendered by SSE and answered by every action) with
// the phase, the waves strip, what it waits for and the time left, the real reason, the failure
// budget, the actions that apply; then the strategy and the nodes.
import { href, html, type Html } from '../html.js';
import type { RolloutAction, RolloutModel } from '../rollout-model.js';

const LABEL: Record<RolloutAction, string> = { pause: 'Pause', resume: 'Resume', abort: 'Abort', rollback: 'Rollback' };
const CONFIRM: Record<RolloutAction, string> = {
  pause: 'Pause rollout %? No new node is started until it is resumed.',
  resume: 'Resume rollout %?',
  abort: 'Abort rollout %? Pending nodes are skipped; nodes already changed keep the new state.',
  rollback: 'Roll back rollout %? Every node that got the target goes back to its previous desired state.',
};

function actions(m: RolloutModel, leaderPage: string | null): Html {
  if (leaderPage) return html`<p class="actions"><a href="${leaderPage}">Act on this rollout on the leading controller</a></p>`;
  if (m.actions.length === 0) return html``;
  return html`<div class="actions">${m.actions.map(
    (a) => html`<button type="button" class="${a === 'abort' || a === 'rollback' ? 'danger' : ''}" hx-post="${href('rollouts', m.id, a)}" hx-confirm="${CONFIRM[a].replace('%', m.id)}" hx-target="#rollout-live" hx-swap="innerHTML">${LABEL[a]}</button>`,
  )}</div>`;
}

/** The inside of #rollout-live. `leaderPage`: on a follower, the same page on the leader (no buttons here). */
export function rolloutLive(m: RolloutModel, leaderPage: string | null): Html {
  const r = m.reason;
  return html`<p class="summary">Phase: <strong class="state" data-testid="rollout-phase">${m.phase}</strong> <span class="muted">· updated ${m.updatedAt}</span>${m.pruned ? html` <span class="muted">(per-node detail pruned by retention)</span>` : null}</p>
<div class="waves" aria-label="waves">${m.waves.map((w) => html`<div class="wave" data-wave="${w.index}" data-state="${w.state}" title="wave ${w.index}: ${w.state}">wave ${w.index} · ${w.done}/${w.nodes} · ${w.state}</div>`)}</div>
${r ? html`<div class="reason" data-testid="reason"><strong>${r.node ? `Node ${r.node}` : 'Why'}</strong>${r.check ? html` — check: <strong>${r.check}</strong>` : null}${r.message ? html`<br>agent says: <span class="msg">${r.message}</span>` : null}<br><span class="muted">${r.text}</span></div>` : null}
<dl class="facts">
<dt>Waits for</dt><dd><ul data-testid="waits-for">${m.waitsFor.map((w) => html`<li>${w}</li>`)}</ul>${m.waitsFor.length === 0 ? html`<span class="muted">nothing</span>` : null}</dd>
<dt>Time left</dt><dd data-testid="time-left">${m.timeLeft ?? '—'}</dd>
<dt>Failure budget</dt><dd data-testid="budget">${m.budget.used} used of ${m.budget.allowed} allowed</dd>
</dl>
${actions(m, leaderPage)}
<table id="rollout-nodes"><thead><tr><th>Node</th><th class="num">Wave</th><th>Phase</th><th>Failure domain</th><th class="num">Generation</th><th>Reason</th></tr></thead><tbody>
${m.nodes.map((n) => html`<tr data-node="${n.name}"><td><a href="${href('nodes', n.name)}">${n.name}</a></td><td class="num">${n.wave}</td><td class="phase">${n.phase}</td><td>${n.domain}</td><td class="num">${n.generation ?? '—'}</td><td class="msg">${n.reason ?? ''}</td></tr>`)}
</tbody></table>`;
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
