// The rollout page's live content, PURE and bounded at any fleet size: the waves as a strip
// (wave-strip.ts), how many nodes are in each phase and the rows that need an operator now
// (rollout-rows.ts), what the rollout waits for and the time left (engine describe() through
// rolloutView), the real reason it is paused or halted in plain words (which node, which check, the
// agent's own message), the failure budget, the strategy, and which commands apply to its phase.
import type { AgentStatus } from '../../protocol/status.js';
import { gateResultsOf, type Command, type NodePhase, type RolloutNode, type RolloutState } from '../rollout/engine.js';
import { isFinished, isSettled } from '../rollout/summary.js';
import { rolloutView } from '../rollout/view.js';
import { LIVE_WAITS, liveRows, phaseCounts, type NodeRow, type PhaseCounts } from './rollout-rows.js';
import { waveStrip, type WaveBox, type WaveState } from './wave-strip.js';

export type { WaveState };
export type RolloutAction = Command['kind'];

/** What is known of a node beyond the rollout: the agent's last status (leader) or the stored observation's reason (follower). */
export interface NodeEvidence { status: AgentStatus | null; reason: string | null; health: string }

export interface Reason {
  /** the engine's sentence (state.reason) */
  text: string;
  node: string | null;
  /** what held or failed: `step unit (failed)`, `probe kubelet-healthz`, `gate cephHealth`, `unreachable` … */
  check: string | null;
  /** the agent's (or the gate's) own message */
  message: string | null;
}

export interface RolloutModel {
  id: string;
  phase: RolloutState['state'];
  target: string;
  createdAt: string;
  updatedAt: string;
  pruned: boolean;
  waves: { index: number; state: WaveState; nodes: number; done: number }[];
  /** The waves as the page shows them: runs of done or pending waves folded when there are many. */
  strip: WaveBox[];
  counts: PhaseCounts;
  total: number;
  /** Every node of a small rollout; of a large one those failed, rolling back, in flight or held (capped). */
  rows: NodeRow[];
  /** Rows of that kind beyond the cap. */
  moreRows: number;
  /** True when `rows` is every node of the rollout. */
  allRows: boolean;
  /** What describe() says it waits for (every line while the rollout shows every row, else LIVE_WAITS), and how many lines more. */
  waitsFor: string[];
  moreWaitsFor: number;
  timeLeft: string | null;
  reason: Reason | null;
  budget: { used: number; allowed: number };
  strategy: [string, string][];
  domainNote: string | null;
  actions: RolloutAction[];
}

const FAILED: NodePhase[] = ['failed', 'rolling_back', 'rolled_back'];

/**
 * A wave the rollout moved past is done (also when retention pruned its nodes); one whose nodes
 * were skipped by an abort stays pending (nothing happened there).
 */
export function waveStateOf(s: Pick<RolloutState, 'wave' | 'state'>, index: number, nodes: Pick<RolloutNode, 'phase'>[]): WaveState {
  if (nodes.some((n) => FAILED.includes(n.phase))) return 'failed';
  if (index < s.wave || (nodes.length > 0 && nodes.every((n) => n.phase === 'healthy'))) return 'done';
  if (index === s.wave && !isFinished(s)) return 'active';
  return 'pending';
}

/** The commands that apply to the phase (engine.ts command() refuses the others). */
export function actionsFor(s: Pick<RolloutState, 'state' | 'rollingBack'>): RolloutAction[] {
  const out: RolloutAction[] = [];
  if (s.state === 'running' || s.state === 'waiting') out.push('pause');
  if (s.state === 'paused') out.push('resume');
  if (!isFinished(s)) out.push('abort');
  if (s.state !== 'aborted' && !s.rollingBack) out.push('rollback');
  return out;
}

export const secondsText = (ms: number): string => `${Math.ceil(ms / 1000)} s`;

/** The agent's own account of what fails on the node: its first failed step, failing probe or last error. */
export function agentCheck(st: AgentStatus): { check: string; message: string } | null {
  const step = st.steps.find((x) => x.state === 'failed' || x.state === 'rolled_back');
  if (step) {
    const e = step.error;
    // the error's code always; its message only when it says more than the step's
    return { check: `step ${step.name} (${step.state})`, message: [step.message, e && (e.message === step.message ? e.code : `${e.code}: ${e.message}`)].filter(Boolean).join(' — ') };
  }
  const probe = st.probes.find((p) => p.status === 'fail');
  if (probe) return { check: `probe ${probe.name}`, message: probe.error ? `${probe.error.code}: ${probe.error.message}` : `failed after ${Math.round(probe.durationMs)} ms` };
  if (st.lastError) return { check: st.lastError.step ? `step ${st.lastError.step}` : 'reconcile', message: `${st.lastError.code}: ${st.lastError.message}` };
  if (!st.converged) return { check: 'converged', message: 'the agent has not converged' };
  if (!st.ready) return { check: 'ready', message: 'the agent is not ready' };
  return null;
}

function nodeReason(n: RolloutNode, text: string, evidence: (name: string) => NodeEvidence | null): Reason {
  const e = evidence(n.name);
  const fromAgent = e?.status ? agentCheck(e.status) : null;
  if (fromAgent) return { text, node: n.name, ...fromAgent };
  if (e && e.health === 'unreachable') return { text, node: n.name, check: 'unreachable', message: e.reason };
  return { text, node: n.name, check: 'gate', message: e?.reason ?? n.reason };
}

/** The real reason a rollout is not moving on, or null when it moves (or finished cleanly). */
export function reasonOf(s: RolloutState, evidence: (name: string) => NodeEvidence | null): Reason | null {
  if (!s.reason) return null;
  const text = s.reason;
  const failing = gateResultsOf(s).find((g) => !g.pass && text.includes(`gate ${g.gate}`));
  if (failing) return { text, node: null, check: `gate ${failing.gate}`, message: failing.message };
  // the node the engine's sentence names (the failure that stopped it), else the first that failed
  const failed = s.nodes.filter((n) => FAILED.includes(n.phase) && n.reason);
  const named = failed.find((n) => text.includes(`node ${n.name} `)) ?? (s.state === 'paused' || s.state === 'halted' ? failed[0] : undefined);
  if (named) return nodeReason(named, text, evidence);
  const held = s.nodes.find((n) => n.hold && text.startsWith(`${n.name} waits`));
  if (held?.hold) return { text, node: held.name, check: `failure domain ${held.hold.domain}`, message: held.reason };
  return { text, node: null, check: null, message: null };
}

const ms = (v: number) => `${v / 1000} s`;
const plural = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;

export function strategyRows(s: RolloutState): [string, string][] {
  const st = s.strategy;
  const rows: [string, string][] = [
    ['steps', st.steps.join(', ')],
    ['maxUnavailable', `${st.maxUnavailable} (${plural(s.maxUnavailable, 'node')})`],
    ['failureDomain', s.failureDomainSource ?? 'none'],
    ['maxUnavailablePerDomain', String(st.maxUnavailablePerDomain ?? 1)],
    ['failureBudget', `${st.failureBudget} (${plural(s.failureBudget, 'failure')})`],
    ['onFailure', st.onFailure],
    ['autoRollback', st.autoRollback ? 'on' : 'off'],
    ['minHealthy', ms(st.minHealthyMs)],
    ['gateTimeout', ms(st.gateTimeoutMs)],
    ['soak', ms(st.soakMs)],
  ];
  if (st.windows.length) rows.push(['windows', st.windows.map((w) => w.spec).join('; ')]);
  if (st.gates?.length) rows.push(['gates', gateResultsOf(s).map((g) => `${g.gate}: ${g.pass ? 'pass' : `holds (${g.message})`}`).join('; ')]);
  return rows;
}

export function rolloutModel(s: RolloutState, now: string, evidence: (name: string) => NodeEvidence | null, pruned = false): RolloutModel {
  const v = rolloutView(s, now);
  const byWave = new Map<number, RolloutNode[]>();
  for (const n of s.nodes) {
    const list = byWave.get(n.wave);
    if (list) list.push(n);
    else byWave.set(n.wave, [n]);
  }
  const waves = Array.from({ length: s.waveCount }, (_, index) => {
    const nodes = byWave.get(index) ?? [];
    return { index, state: waveStateOf(s, index, nodes), nodes: nodes.length, done: nodes.filter(isSettled).length };
  });
  const live = liveRows(s.nodes);
  const waitsFor = isFinished(s) ? [] : v.waitsFor;
  const waits = live.all ? waitsFor.length : LIVE_WAITS; // the rows hold each node's own state
  return {
    id: s.id, phase: s.state, target: s.target, createdAt: s.createdAt, updatedAt: s.updatedAt, pruned,
    waves,
    strip: waveStrip(waves),
    counts: phaseCounts(s.nodes),
    total: s.nodes.length,
    rows: live.rows,
    moreRows: live.more,
    allRows: live.all,
    waitsFor: waitsFor.slice(0, waits),
    moreWaitsFor: Math.max(0, waitsFor.length - waits),
    timeLeft: v.timeLeftMs === null || isFinished(s) ? null : secondsText(v.timeLeftMs),
    reason: s.state === 'running' ? null : reasonOf(s, evidence),
    budget: { used: s.failures, allowed: s.failureBudget },
    strategy: strategyRows(s),
    domainNote: v.failureDomainNote,
    actions: actionsFor(s),
  };
}
