// Node: the agent's steps with their messages, probes with timings, kubelet version, generation
// history, certificate days left, the node's events, all in #node-live (re-rendered by SSE when the
// fleet moves). The agent's status is the leader poller's last one; a follower (or the leader before
// its first poll) asks the agent; without an answer the page says why and shows the stored observation.
import type { AgentStatus } from '../../../protocol/status.js';
import type { ControllerEvent, DesiredRecord, NodeRecord } from '../../store/store.js';
import { domainOf } from '../fleet-model.js';
import { html, type Html } from '../html.js';
import { eventRows } from './events.js';

export interface NodePageData {
  node: NodeRecord;
  status: AgentStatus | null;
  /** Why the agent, asked for this page, gave no status. */
  unanswered?: string | null;
  history: DesiredRecord[];
  events: ControllerEvent[];
  now: Date;
}

export const daysLeft = (notAfter: string | null | undefined, now: Date): number | null =>
  notAfter ? Math.floor((Date.parse(notAfter) - now.getTime()) / 86_400_000) : null;

const kubeletOf = (desired: unknown): string => {
  const k = (desired as { kubelet?: { version?: unknown } } | null)?.kubelet;
  return typeof k?.version === 'string' ? k.version : '';
};

const details = (d: Record<string, unknown> | undefined): string => (d ? Object.entries(d).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '');

export function nodeView(name: string, live: Html, liveUrl: string): Html {
  return html`<h1>${name}</h1>
<div id="node-live" hx-sse:connect="${liveUrl}">
${live}
</div>`;
}

/** The inside of #node-live. */
export function nodeLive(d: NodePageData): Html {
  const { node: n, status: st } = d;
  const certDays = daysLeft(st?.cert?.notAfter ?? n.certNotAfter, d.now);
  const steps = st
    ? html`<table id="steps"><thead><tr><th>Step</th><th>State</th><th>Message</th><th class="num">Duration</th><th>At</th></tr></thead><tbody>
${st.steps.map((x) => html`<tr data-step="${x.name}"><td>${x.name}</td><td>${x.state}</td><td class="msg">${x.message}${x.error ? html`<br><strong>${x.error.code}</strong>: ${x.error.message}` : null}</td><td class="num">${Math.round(x.durationMs)} ms</td><td>${x.at}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">${d.unanswered ? html`The agent did not answer this controller: ${d.unanswered}` : 'No agent status on this controller yet'}${n.lastSeenAt ? html` (last seen ${n.lastSeenAt})` : null}. Last observation: ${n.health}${n.reason ? ` (${n.reason})` : ''}.</p>`;
  const probes = st?.probes.length
    ? html`<table id="probes"><thead><tr><th>Probe</th><th>Status</th><th class="num">Time</th><th>Details</th></tr></thead><tbody>
${st.probes.map((p) => html`<tr data-probe="${p.name}"><td>${p.name}</td><td>${p.status}</td><td class="num">${p.durationMs.toFixed(1)} ms</td><td class="msg">${p.error ? html`<strong>${p.error.code}</strong>: ${p.error.message} ` : null}${details(p.details)}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No probe results.</p>`;
  return html`<dl class="facts">
<dt>State</dt><dd><span class="state" data-testid="node-state" data-state="${n.health}">${n.health}</span>${n.reason ? html` <span class="msg">${n.reason}</span>` : null}</dd>
<dt>Group</dt><dd>${n.group}</dd>
<dt>Failure domain</dt><dd>${domainOf(n)}</dd>
<dt>Labels</dt><dd>${Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'}</dd>
<dt>Generation</dt><dd>${n.generation ?? '—'} (${n.converged ? 'converged' : 'not converged'}, ${n.ready ? 'ready' : 'not ready'})</dd>
<dt>Kubelet</dt><dd data-testid="kubelet-version">${st?.kubelet.version ?? '—'}</dd>
<dt>Certificate</dt><dd><span data-testid="cert-days">${certDays === null ? 'unknown' : `${certDays} days left`}</span>${st?.cert?.lastRenewalError ? html` — renewal failed: ${st.cert.lastRenewalError.code}: ${st.cert.lastRenewalError.message}` : null}</dd>
<dt>Agent</dt><dd>${st ? `${st.agent.version}, up since ${st.agent.startedAt}` : '—'}</dd>
<dt>Address</dt><dd>${n.url}</dd>
</dl>
<h2>Steps</h2>
${steps}
<h2>Probes</h2>
${probes}
<h2>Generations</h2>
<table id="generations"><thead><tr><th class="num">Generation</th><th>Signed at</th><th>Kubelet</th><th></th></tr></thead><tbody>
${d.history.map((h) => html`<tr data-generation="${h.generation}"><td class="num">${h.generation}</td><td>${h.at}</td><td>${kubeletOf(h.desired)}</td><td>${h.generation === n.generation ? 'held now' : ''}</td></tr>`)}
</tbody></table>
<h2>Events</h2>
<table id="node-events"><thead><tr><th>At</th><th>Actor</th><th>Kind</th><th>Subject</th><th>Message</th></tr></thead><tbody>
${eventRows(d.events)}
</tbody></table>`;
}
