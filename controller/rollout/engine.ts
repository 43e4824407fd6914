// The rollout engine, PURE: (state, node observations, now) → (next state, actions). No clock,
// no I/O; every deadline is an absolute ISO timestamp inside the state, so a restarted
// controller rebuilds its timers from the store. The executor performs the actions and feeds
// push outcomes back through pushed(); commands (pause, resume, abort, rollback) are inputs too.
//
// A node's life: pending → pushing → gating → healthy; a gate failure (deadline passed without
// holding target generation + converged + ready + healthy for minHealthy continuously) counts one
// failure and, with autoRollback, becomes rolling_back: a NEW generation carrying the node's
// previous desired state, which must pass the gate again (→ rolled_back, or failed).
// Failures within the budget: onFailure pause → paused, halt → halted, skip → the run goes on.
// A failure beyond the budget stops the run (halted with halt, paused otherwise).
import { NwError } from '../../host/errors.js';
import type { NodeObservation } from '../store/store.js';
import type { FailureDomainSource } from './domains.js';
import { gateName, type GateResult } from './gates.js';
import { planWaves } from './plan.js';
import { maxUnavailableOf, resolveCount, type Strategy } from './strategy.js';
import { insideWindows, nextWindowOpening } from './window.js';

export type RolloutStatus = 'running' | 'waiting' | 'paused' | 'halted' | 'completed' | 'aborted';
export type NodePhase = 'pending' | 'pushing' | 'gating' | 'healthy' | 'failed' | 'rolling_back' | 'rolled_back' | 'skipped';

export interface RolloutNode {
  name: string;
  /** Its failure domain (`node:<name>` when the source does not map it); updated when it moves before its push. */
  failureDomain: string;
  wave: number;
  phase: NodePhase;
  /** Highest generation known for the node when the rollout was created (signed or reported). */
  baseGeneration: number;
  /** The node's desired generation before this rollout: the content a rollback carries. */
  previousGeneration: number | null;
  /** False when there is no previous desired state, or it equals the target spec. */
  canRollBack: boolean;
  targetGeneration: number | null;
  rollbackGeneration: number | null;
  /** When the agent accepted the push being gated (null while the push is in flight). */
  gateStartedAt: string | null;
  healthySince: string | null;
  deadline: string | null;
  attempts: number;
  reason: string | null;
  /** Why this pending node is not started although its wave is: its failure domain is busy. */
  hold?: DomainHold;
}

/** A pending node held back by its failure domain (data; domainHoldText says it in words). */
export interface DomainHold {
  code: 'domain-busy';
  domain: string;
  /** Nodes of the domain in flight (pushing, gating, rolling back). */
  inFlight: string[];
  /** Nodes of the domain observed unhealthy. */
  unhealthy: string[];
  limit: number;
}

export function domainHoldText(h: DomainHold): string {
  const parts: string[] = [];
  const count = (k: number) => `${k} node${k === 1 ? '' : 's'}`;
  if (h.inFlight.length) parts.push(`${count(h.inFlight.length)} in progress (${h.inFlight.join(', ')})`);
  if (h.unhealthy.length) parts.push(`${count(h.unhealthy.length)} unhealthy (${h.unhealthy.join(', ')})`);
  return `${h.domain} already has ${parts.join(' and ')}${h.limit > 1 ? `; at most ${h.limit} per failure domain` : ''}`;
}

export interface RolloutState {
  id: string;
  /** Incremented by every transition (the store's optimistic check). */
  version: number;
  /** What the rollout targets, for humans ("group workers", "nodes w1,w2"). */
  target: string;
  strategy: Strategy;
  /** Where the nodes' failure domains came from (absent in rollouts made before domains: every node its own). */
  failureDomainSource?: FailureDomainSource;
  /** Target nodes the source did not map when the rollout was created (each is its own domain). */
  unmapped?: number;
  nodes: RolloutNode[];
  waveCount: number;
  wave: number;
  state: RolloutStatus;
  /** Why the rollout is not progressing, for humans. */
  reason: string | null;
  failures: number;
  /** Resolved from the strategy against the number of nodes. */
  failureBudget: number;
  maxUnavailable: number;
  soakUntil: string | null;
  /** The latest result of each strategy gate (absent without gates). */
  gates?: GateResult[];
  /** Since when a failing gate holds the rollout (gateWaitTimeout counts from here); null when none holds. */
  gateHeldSince?: string | null;
  /** Set by the rollback command: every node that got the target goes back to its previous state. */
  rollingBack: boolean;
  /** The target desired state without generation and binding (opaque here; see bind.ts). */
  desired: unknown;
  createdAt: string;
  updatedAt: string;
}

export type Action =
  | { kind: 'push'; node: string; generation: number; desired: 'target' | 'previous' }
  /** Call step() again at this time at the latest (observations may come earlier). */
  | { kind: 'wait'; until: string };

export interface Transition { next: RolloutState; actions: Action[] }

export type Command = { kind: 'pause' | 'resume' | 'abort' | 'rollback'; actor: string };

/** The outcome of a push: refused for sure (e.g. 409/403), or unknown (timeout: maybe applied). */
export type PushOutcome = { ok: true } | { ok: false; definite: boolean; reason: string };

export interface RolloutTarget {
  name: string;
  /** The hypervisor it runs on; a node without one is its own domain. */
  failureDomain?: string;
  baseGeneration: number;
  previousGeneration: number | null;
  canRollBack: boolean;
}

const TERMINAL: NodePhase[] = ['healthy', 'failed', 'rolled_back', 'skipped'];
const isTerminal = (n: RolloutNode): boolean => TERMINAL.includes(n.phase);
export const isInFlight = (n: RolloutNode): boolean =>
  n.phase === 'pushing' || n.phase === 'gating' || (n.phase === 'rolling_back' && n.rollbackGeneration !== null);
const isRollbackQueued = (n: RolloutNode): boolean => n.phase === 'rolling_back' && n.rollbackGeneration === null;
/** The generation a node in flight is gated on: its rollback's while rolling back, else its target's. */
export const gatedGeneration = (n: Pick<RolloutNode, 'phase' | 'rollbackGeneration' | 'targetGeneration'>): number | null =>
  n.phase === 'rolling_back' ? n.rollbackGeneration : n.targetGeneration;
const isDone = (s: RolloutState): boolean => s.state === 'completed' || s.state === 'aborted';

const plus = (now: string, ms: number): string => new Date(Date.parse(now) + ms).toISOString();
const reached = (now: string, t: string | null): boolean => t !== null && Date.parse(now) >= Date.parse(t);

/** A node's own failure domain: the rule for nodes the source does not map. */
export const ownDomain = (name: string): string => `node:${name}`;

/** maxUnavailablePerDomain of a rollout (1 for rollouts stored before it existed). */
export const perDomainLimit = (s: RolloutState): number => s.strategy.maxUnavailablePerDomain ?? 1;

/** The pending nodes the next push will come from (the lowest wave still holding pending nodes): their domains are re-checked before it. */
export function nextToPush(s: RolloutState): RolloutNode[] {
  let wave = Infinity;
  for (const n of s.nodes) if (n.phase === 'pending' && n.wave < wave) wave = n.wave;
  return s.nodes.filter((n) => n.phase === 'pending' && n.wave === wave);
}

export function newRollout(o: {
  id: string; target: string; nodes: RolloutTarget[]; strategy: Strategy; now: string; desired?: unknown;
  failureDomainSource?: FailureDomainSource;
}): RolloutState {
  if (o.nodes.length === 0) throw new NwError('NW_ROLLOUT', `no nodes match ${o.target}; check \`nodewright nodes ls\``);
  const plan = planWaves(o.nodes.map((n) => ({ name: n.name, failureDomain: n.failureDomain ?? ownDomain(n.name) })), o.strategy.steps);
  const source = o.failureDomainSource ?? 'none';
  const waveOf = new Map(plan.waves.flatMap((w) => w.nodes.map((n) => [n.name, { wave: w.index, domain: n.failureDomain }] as const)));
  const byName = new Map(o.nodes.map((n) => [n.name, n]));
  const nodes: RolloutNode[] = plan.waves.flatMap((w) => w.nodes).map((p) => {
    const t = byName.get(p.name)!;
    return {
      name: t.name, failureDomain: waveOf.get(t.name)!.domain, wave: waveOf.get(t.name)!.wave, phase: 'pending',
      baseGeneration: t.baseGeneration, previousGeneration: t.previousGeneration, canRollBack: t.canRollBack,
      targetGeneration: null, rollbackGeneration: null, gateStartedAt: null, healthySince: null, deadline: null, attempts: 0, reason: null,
    };
  });
  return {
    id: o.id, version: 0, target: o.target, strategy: o.strategy,
    failureDomainSource: source,
    // under `none` nothing is meant to be mapped: every node is its own domain by choice
    unmapped: source === 'none' ? 0 : o.nodes.filter((n) => n.failureDomain === undefined).length,
    nodes, waveCount: plan.waves.length, wave: 0,
    state: 'running', reason: null, failures: 0,
    failureBudget: resolveCount(o.strategy.failureBudget, nodes.length),
    maxUnavailable: maxUnavailableOf(o.strategy, nodes.length),
    soakUntil: null, rollingBack: false, desired: o.desired ?? null, createdAt: o.now, updatedAt: o.now,
  };
}

/** One working copy per transition; finish() bumps the version only when something changed. */
class Draft {
  readonly s: RolloutState;
  readonly actions: Action[] = [];
  constructor(private readonly before: RolloutState, readonly now: string) {
    this.s = structuredClone(before);
  }
  node(name: string): RolloutNode | undefined {
    return this.s.nodes.find((n) => n.name === name);
  }
  finish(): Transition {
    const waits = this.actions.filter((a): a is Extract<Action, { kind: 'wait' }> => a.kind === 'wait');
    const actions: Action[] = this.actions.filter((a) => a.kind !== 'wait');
    if (waits.length > 0) actions.push(waits.reduce((a, b) => (Date.parse(a.until) <= Date.parse(b.until) ? a : b)));
    if (JSON.stringify(this.s) === JSON.stringify(this.before)) return { next: this.before, actions };
    return { next: { ...this.s, version: this.before.version + 1, updatedAt: this.now }, actions };
  }
}

function gateHolds(o: NodeObservation | undefined, generation: number | null): boolean {
  return !!o && o.health === 'healthy' && o.generation === generation && o.converged && o.ready;
}

function whyNotHealthy(o: NodeObservation | undefined, generation: number | null): string {
  if (!o) return 'no observation yet';
  if (o.health === 'unreachable') return `unreachable${o.reason ? ` (${o.reason})` : ''}`;
  if (o.generation !== generation) return `holds generation ${o.generation ?? 'none'}, not ${generation}`;
  if (!o.converged) return `not converged${o.reason ? ` (${o.reason})` : ''}`;
  if (!o.ready) return `not ready${o.reason ? ` (${o.reason})` : ''}`;
  return `${o.health}${o.reason ? ` (${o.reason})` : ''}`;
}

function startRollback(d: Draft, n: RolloutNode, observed: number | null): void {
  n.rollbackGeneration = Math.max(n.targetGeneration ?? 0, n.baseGeneration, observed ?? 0) + 1;
  n.gateStartedAt = null;
  n.healthySince = null;
  n.deadline = plus(d.now, d.s.strategy.gateTimeoutMs);
  n.attempts += 1;
  d.actions.push({ kind: 'push', node: n.name, generation: n.rollbackGeneration, desired: 'previous' });
}

/** A node failed: count it, roll it back when possible, and let onFailure + budget decide the run. */
function fail(d: Draft, n: RolloutNode, why: string, observed: number | null): void {
  if (n.phase === 'rolling_back') {
    n.phase = 'failed';
    n.reason = `its rollback failed too: ${why}`;
    n.deadline = null;
    return;
  }
  d.s.failures += 1;
  const canRollBack = d.s.strategy.autoRollback && n.canRollBack && n.targetGeneration !== null;
  n.reason = `failed its gate: ${why}${canRollBack ? '; rolling back to its previous desired state' : ''}`;
  n.deadline = null;
  n.healthySince = null;
  if (canRollBack) {
    n.phase = 'rolling_back';
    startRollback(d, n, observed);
  } else {
    n.phase = 'failed';
  }
  if (d.s.rollingBack) return;
  const s = d.s;
  const what = `node ${n.name} ${n.reason}`;
  if (s.failures > s.failureBudget) {
    const stop = s.strategy.onFailure === 'halt' || s.state === 'halted' ? 'halted' : 'paused';
    s.state = stop;
    s.reason = `failure budget exceeded (${s.failures} failures, budget ${s.failureBudget}): ${what}` + (stop === 'paused' ? '; resume, rollback or abort' : '; rollback or abort');
  } else if (s.strategy.onFailure === 'halt') {
    s.state = 'halted';
    s.reason = `${what}; rollback or abort`;
  } else if (s.strategy.onFailure === 'pause' && s.state !== 'halted') {
    s.state = 'paused';
    s.reason = `${what}; resume, rollback or abort`;
  }
}

/** Judge the gate of every node in flight. */
function judgeGates(d: Draft, obs: Record<string, NodeObservation>): void {
  const minHealthy = d.s.strategy.minHealthyMs;
  for (const n of d.s.nodes) {
    if (!isInFlight(n)) continue;
    const o = obs[n.name];
    const generation = gatedGeneration(n);
    if (n.gateStartedAt === null) {
      // the push is still in flight; its deadline bounds it
      if (reached(d.now, n.deadline)) fail(d, n, 'the push did not complete before the gate deadline', o?.generation ?? null);
      continue;
    }
    if (gateHolds(o, generation)) {
      n.healthySince ??= d.now;
      if (Date.parse(d.now) - Date.parse(n.healthySince) >= minHealthy) {
        n.phase = n.phase === 'rolling_back' ? 'rolled_back' : 'healthy';
        n.reason = n.phase === 'rolled_back' ? `${n.reason ?? ''}`.replace(/; rolling back.*$/, '; rolled back') : null;
        n.deadline = null;
        continue;
      }
    } else if (n.healthySince !== null) {
      // healthy once is not a success: the gate needs minHealthy without interruption
      n.healthySince = null;
      n.reason = `was healthy, then ${whyNotHealthy(o, generation)}: the gate starts over`;
    }
    if (reached(d.now, n.deadline)) fail(d, n, whyNotHealthy(o, generation), o?.generation ?? null);
  }
}

/** Names of nodes that are unavailable now: in flight, or observed not healthy. */
function unavailable(s: RolloutState, obs: Record<string, NodeObservation>): Set<string> {
  const out = new Set(s.nodes.filter(isInFlight).map((n) => n.name));
  for (const [name, o] of Object.entries(obs)) if (o.health !== 'healthy') out.add(name);
  // a rollout node nobody has observed yet is not known to be available
  for (const n of s.nodes) if (!obs[n.name] && !isTerminal(n)) out.add(n.name);
  return out;
}

function blockedBy(s: RolloutState, down: Set<string>): string {
  const names = [...down];
  return `waits for capacity: maxUnavailable ${s.maxUnavailable}, unavailable now: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/**
 * Why n may not start because of its failure domain, or null: starting it must keep the domain's
 * unavailable nodes (in flight or observed unhealthy, n included) within maxUnavailablePerDomain,
 * and never put two nodes of one wave and one domain in flight together (a node that moved into
 * the domain of another node of its wave waits for it).
 */
function domainHold(s: RolloutState, n: RolloutNode, byDomain: Map<string, RolloutNode[]>, down: Set<string>): DomainHold | null {
  const limit = perDomainLimit(s);
  const others = (byDomain.get(n.failureDomain) ?? []).filter((m) => m.name !== n.name);
  const busy = others.filter((m) => down.has(m.name));
  const sameWave = others.some((m) => m.wave === n.wave && isInFlight(m));
  if (busy.length + 1 <= limit && !sameWave) return null;
  return {
    code: 'domain-busy', domain: n.failureDomain, limit,
    inFlight: busy.filter(isInFlight).map((m) => m.name),
    unhealthy: busy.filter((m) => !isInFlight(m)).map((m) => m.name),
  };
}

function byDomainOf(s: RolloutState): Map<string, RolloutNode[]> {
  const m = new Map<string, RolloutNode[]>();
  for (const n of s.nodes) {
    const list = m.get(n.failureDomain);
    if (list) list.push(n);
    else m.set(n.failureDomain, [n]);
  }
  return m;
}

/** Re-check before the push: a pending node that moved (live migration) is planned by its new domain. */
function followMoves(s: RolloutState, domains: Record<string, string> | undefined): void {
  if (!domains) return;
  for (const n of s.nodes) {
    const now = n.phase === 'pending' ? domains[n.name] : undefined;
    // an unmapped node is not evidence of a move: it keeps the domain it was planned with
    if (now && now !== n.failureDomain) {
      n.failureDomain = now;
      if (n.hold) holdNode(n, null); // held by its old domain: judged again by the new one
    }
  }
}

function holdNode(n: RolloutNode, h: DomainHold | null): void {
  if (h) n.hold = h;
  else delete n.hold;
  n.reason = h ? domainHoldText(h) : null;
}

/** Start what may start: queued rollbacks (rollback command) or the current wave's pending nodes. */
function startWork(d: Draft, obs: Record<string, NodeObservation>): void {
  const s = d.s;
  const down = unavailable(s, obs);
  // starting n must keep (unavailable ∪ {n}) within maxUnavailable: an already unhealthy node
  // costs no new capacity, but in-flight work never exceeds it
  const fits = (n: RolloutNode): boolean => (down.has(n.name) ? down.size <= s.maxUnavailable : down.size < s.maxUnavailable);
  const byDomain = byDomainOf(s);

  if (s.rollingBack) {
    for (const n of s.nodes.filter(isRollbackQueued)) {
      if (!fits(n)) break;
      if (domainHold(s, n, byDomain, down)) continue;
      startRollback(d, n, obs[n.name]?.generation ?? null);
      down.add(n.name);
    }
    const left = s.nodes.filter((n) => isInFlight(n) || isRollbackQueued(n));
    if (left.length === 0) {
      s.state = 'aborted';
      s.reason = s.reason?.replace(/^rolling back/, 'rolled back') ?? 'rolled back';
    } else if (!left.some(isInFlight)) {
      s.state = 'waiting';
      s.reason = `rolling back; ${blockedBy(s, down)}`;
    }
    return;
  }

  for (;;) {
    if (s.soakUntil !== null) {
      if (!reached(d.now, s.soakUntil)) {
        d.actions.push({ kind: 'wait', until: s.soakUntil });
        if (!s.nodes.some(isInFlight)) {
          s.state = 'waiting';
          s.reason = `soaking after wave ${s.wave}: the next wave starts at ${s.soakUntil}`;
        }
        return;
      }
      s.soakUntil = null;
    }
    const wave = s.nodes.filter((n) => n.wave === s.wave);
    if (s.wave < s.waveCount && wave.every(isTerminal)) {
      s.wave += 1;
      if (s.wave < s.waveCount && s.strategy.soakMs > 0) s.soakUntil = plus(d.now, s.strategy.soakMs);
      continue;
    }
    break;
  }
  if (s.wave >= s.waveCount) {
    s.state = 'completed';
    const bad = s.nodes.filter((n) => n.phase !== 'healthy');
    s.reason = bad.length === 0 ? null : `completed; not on the target: ${bad.map((n) => `${n.name} (${n.phase})`).join(', ')}`;
    return;
  }

  const pending = s.nodes.filter((n) => n.wave === s.wave && n.phase === 'pending');
  let started = 0;
  if (pending.length > 0 && !insideWindows(s.strategy.windows, d.now)) {
    const opens = nextWindowOpening(s.strategy.windows, d.now);
    if (opens) d.actions.push({ kind: 'wait', until: opens });
    if (!s.nodes.some(isInFlight)) {
      s.state = 'waiting';
      s.reason = opens ? `outside the maintenance windows; the next opens at ${opens}` : 'outside the maintenance windows; none opens within 8 days';
    }
    return;
  }
  if (holdForGates(d)) return;
  let held: RolloutNode | null = null;
  for (const n of pending) if (n.hold) holdNode(n, null); // judged afresh below
  for (const n of pending) {
    if (!fits(n)) break;
    const h = domainHold(s, n, byDomain, down);
    if (h) {
      holdNode(n, h);
      held ??= n;
      continue;
    }
    n.phase = 'pushing';
    n.targetGeneration = Math.max(n.baseGeneration, obs[n.name]?.generation ?? 0) + 1;
    n.deadline = plus(d.now, s.strategy.gateTimeoutMs);
    n.attempts += 1;
    n.reason = null;
    d.actions.push({ kind: 'push', node: n.name, generation: n.targetGeneration, desired: 'target' });
    down.add(n.name);
    started += 1;
  }
  if (started === 0 && pending.length > 0 && !s.nodes.some(isInFlight)) {
    s.state = 'waiting';
    s.reason = held ? `${held.name} waits: ${held.reason}` : blockedBy(s, down);
    return;
  }
  s.state = 'running';
  s.reason = null;
}

/** Each gate's latest result; a gate without one has not been evaluated yet and holds. */
export function gateResultsOf(s: Pick<RolloutState, 'strategy' | 'gates'>): GateResult[] {
  return (s.strategy.gates ?? []).map(
    (g, index) => s.gates?.find((r) => r.index === index) ?? { index, gate: gateName(g), pass: false, message: 'not evaluated yet' },
  );
}

/** The reason a failing gate gives: "gate cephHealth holds: HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)". */
export const gateHoldText = (r: GateResult): string => `gate ${r.gate} holds: ${r.message}`;

/**
 * Failing gates hold the rollout before any new node is touched: waiting (it continues by itself
 * when they pass), or paused with gateFailure pause or once they held for gateWaitTimeout.
 */
function holdForGates(d: Draft): boolean {
  const s = d.s;
  const failing = gateResultsOf(s).filter((r) => !r.pass);
  if (failing.length === 0) {
    if (s.gateHeldSince) s.gateHeldSince = null;
    return false;
  }
  const why = failing.map(gateHoldText).join('; ');
  s.gateHeldSince ??= d.now;
  const waitMs = s.strategy.gateWaitTimeoutMs ?? 3_600_000;
  const until = plus(s.gateHeldSince, waitMs);
  if (s.strategy.gateFailure === 'pause' || reached(d.now, until)) {
    s.state = 'paused';
    s.reason = `${why}${s.strategy.gateFailure === 'pause' ? ' (gateFailure pause)' : `; held longer than gateWaitTimeout ${waitMs / 1000} s`}; resume once it passes, or abort`;
    s.gateHeldSince = null;
    return true;
  }
  s.state = 'waiting';
  s.reason = why;
  d.actions.push({ kind: 'wait', until });
  return true;
}

/** When step() must run again even if no observation changes. */
function nextWake(d: Draft): void {
  for (const n of d.s.nodes.filter(isInFlight)) {
    if (n.deadline) d.actions.push({ kind: 'wait', until: n.deadline });
    if (n.healthySince) d.actions.push({ kind: 'wait', until: plus(n.healthySince, d.s.strategy.minHealthyMs) });
  }
}

/**
 * `domains`: the current failure domain of pending nodes (nextToPush), where the source maps them;
 * a node whose domain differs from its plan moved and is planned by its new domain from now on.
 */
export function step(state: RolloutState, obs: Record<string, NodeObservation>, now: string, domains?: Record<string, string>, gates?: GateResult[]): Transition {
  if (isDone(state)) return { next: state, actions: [] };
  const d = new Draft(state, now);
  if (gates && state.strategy.gates?.length) d.s.gates = gates;
  followMoves(d.s, domains);
  judgeGates(d, obs);
  if (d.s.state === 'running' || d.s.state === 'waiting') startWork(d, obs);
  nextWake(d);
  return d.finish();
}

/** The push of `generation` to `node` came back. Outcomes of pushes no longer current are ignored. */
export function pushed(state: RolloutState, node: string, generation: number, outcome: PushOutcome, now: string): Transition {
  const d = new Draft(state, now);
  const n = d.node(node);
  const current = n && n.gateStartedAt === null && !isDone(state)
    && ((n.phase === 'pushing' && n.targetGeneration === generation) || (n.phase === 'rolling_back' && n.rollbackGeneration === generation));
  if (!n || !current) return { next: state, actions: [] };
  if (!outcome.ok && outcome.definite) {
    fail(d, n, `the agent refused generation ${generation}: ${outcome.reason}`, null);
  } else {
    // accepted, or unknown: either way the agent's reported generation decides the gate
    if (n.phase === 'pushing') n.phase = 'gating';
    n.gateStartedAt = now;
    n.healthySince = null;
    n.deadline = plus(now, d.s.strategy.gateTimeoutMs);
    if (!outcome.ok) n.reason = `push outcome unknown (${outcome.reason}); watching the agent's generation`;
  }
  nextWake(d);
  return d.finish();
}

/**
 * After a restart: a push recorded as started may or may not have reached the agent. The agent's
 * generation tells: it holds the pushed generation → gate it; otherwise push the SAME generation
 * again (the agent treats same generation + same content as a no-op). Gates in progress restart
 * their minHealthy count.
 */
export function recover(state: RolloutState, obs: Record<string, NodeObservation>, now: string): Transition {
  if (isDone(state)) return { next: state, actions: [] };
  const d = new Draft(state, now);
  for (const n of d.s.nodes) {
    if (!isInFlight(n)) continue;
    if (n.gateStartedAt !== null) {
      // health "held continuously" cannot be vouched for across the outage: the gate's
      // minHealthy starts over (its deadline stays, but leaves at least minHealthy)
      if (n.healthySince !== null) {
        n.healthySince = null;
        const floor = plus(now, d.s.strategy.minHealthyMs);
        if (n.deadline === null || Date.parse(n.deadline) < Date.parse(floor)) n.deadline = floor;
      }
      continue;
    }
    const rollback = n.phase === 'rolling_back';
    const generation = gatedGeneration(n)!;
    if (obs[n.name]?.generation === generation) {
      if (!rollback) n.phase = 'gating';
      n.gateStartedAt = now;
      n.deadline = plus(now, d.s.strategy.gateTimeoutMs);
    } else {
      n.attempts += 1;
      d.actions.push({ kind: 'push', node: n.name, generation, desired: rollback ? 'previous' : 'target' });
    }
  }
  nextWake(d);
  return d.finish();
}

/**
 * A push whose signed bundle expired (its notAfter passed while it was in doubt, e.g. across a
 * long outage) is never sent expired: it goes out as generation `to`, the same content signed
 * again. The node's target (or rollback) generation follows; its gate starts with the new push.
 */
export function renumberPush(state: RolloutState, node: string, from: number, to: number, now: string): RolloutState {
  const d = new Draft(state, now);
  const n = d.node(node);
  if (!n) return state;
  if (n.phase === 'rolling_back' && n.rollbackGeneration === from) n.rollbackGeneration = to;
  else if (n.targetGeneration === from) n.targetGeneration = to;
  else return state;
  n.reason = `generation ${from} expired before it was applied; sent again as generation ${to}`;
  return d.finish().next;
}

export function command(state: RolloutState, cmd: Command, now: string): Transition {
  const refuse = (why: string): never => {
    throw new NwError('NW_ROLLOUT', `cannot ${cmd.kind} rollout ${state.id}: ${why}`);
  };
  const d = new Draft(state, now);
  const s = d.s;
  switch (cmd.kind) {
    case 'pause':
      if (isDone(state) || s.state === 'halted') refuse(`it is ${s.state}`);
      if (s.state !== 'paused') {
        s.state = 'paused';
        s.reason = `paused by ${cmd.actor}`;
      }
      break;
    case 'resume':
      if (s.state === 'halted') refuse('it halted; roll it back or abort it, then start a new rollout');
      if (isDone(state)) refuse(`it is ${s.state}`);
      if (s.state === 'paused') {
        s.state = 'running';
        s.reason = null;
        if (s.gateHeldSince) s.gateHeldSince = null;
      }
      break;
    case 'abort':
      if (isDone(state)) refuse(`it is already ${s.state}`);
      s.state = 'aborted';
      s.reason = `aborted by ${cmd.actor}`;
      for (const n of s.nodes) {
        if (n.phase === 'pending' || isRollbackQueued(n)) {
          n.phase = 'skipped';
          delete n.hold;
          n.reason = `aborted by ${cmd.actor}`;
        } else if (isInFlight(n)) {
          n.reason = `aborted by ${cmd.actor} while ${n.phase}`;
          n.deadline = null;
        }
      }
      break;
    case 'rollback':
      if (s.state === 'aborted') refuse('it is aborted');
      s.rollingBack = true;
      s.state = 'running';
      s.reason = `rolling back (by ${cmd.actor})`;
      s.soakUntil = null;
      for (const n of s.nodes) {
        if (n.phase === 'pending') {
          n.phase = 'skipped';
          delete n.hold;
          n.reason = `rollback by ${cmd.actor}`;
        } else if (n.phase === 'pushing' || n.phase === 'gating' || n.phase === 'healthy' || (n.phase === 'failed' && n.rollbackGeneration === null)) {
          // (a failed node that was never rolled back may hold the target)
          if (n.canRollBack) {
            n.phase = 'rolling_back';
            n.rollbackGeneration = null;
            n.gateStartedAt = null;
            n.healthySince = null;
            n.deadline = null;
            n.reason = `rollback by ${cmd.actor}`;
          } else {
            n.reason = 'no different previous desired state to roll back to';
          }
        }
      }
      break;
  }
  return d.finish();
}

/**
 * What status says about the failure domains, or null when every node is mapped. Not a refusal:
 * `hypervisor` with no node mapped is most likely an operator error (no cloud in controller.yaml,
 * or the mapping has not run yet), and the rollout still keeps every node its own domain.
 */
export function failureDomainNote(s: Pick<RolloutState, 'failureDomainSource' | 'unmapped' | 'nodes'>): string | null {
  const unmapped = s.unmapped ?? 0;
  if (unmapped === 0 || !s.failureDomainSource) return null;
  if (s.failureDomainSource === 'hypervisor' && unmapped === s.nodes.length) {
    return `no target node is mapped to a hypervisor, so every node is its own failure domain and waves do not keep workers of one physical host apart: check that controller.yaml names the OpenStack cloud and that \`nodewright nodes ls\` shows each node's hypervisor, or start the rollout with --failure-domain label:KEY or none`;
  }
  return `${unmapped} of ${s.nodes.length} node(s) not mapped by ${s.failureDomainSource}: each is its own failure domain`;
}

/** What the rollout waits for and how long is left, for `rollout status`. */
export function describe(state: RolloutState, now: string): { waitsFor: string[]; timeLeftMs: number | null; failureDomainNote: string | null } {
  const t = Date.parse(now);
  const waitsFor: string[] = [];
  let soonest: number | null = null;
  const left = (iso: string | null): string => {
    if (!iso) return '';
    const ms = Math.max(0, Date.parse(iso) - t);
    soonest = soonest === null ? ms : Math.min(soonest, ms);
    return `${Math.ceil(ms / 1000)} s`;
  };
  if (state.reason) waitsFor.push(state.reason);
  if (state.soakUntil && !isDone(state)) waitsFor.push(`soak ends in ${left(state.soakUntil)}`);
  for (const n of state.nodes) {
    if (n.phase !== 'pending' || !n.hold) continue;
    const line = `${n.name} waits: ${domainHoldText(n.hold)}`;
    if (line !== state.reason) waitsFor.push(line);
  }
  for (const n of state.nodes.filter(isInFlight)) {
    const generation = gatedGeneration(n);
    const what = n.phase === 'rolling_back' ? 'rollback' : 'target';
    if (n.gateStartedAt === null) {
      waitsFor.push(`${n.name}: push of ${what} generation ${generation} (deadline in ${left(n.deadline)})`);
    } else if (n.healthySince) {
      const held = Math.floor((t - Date.parse(n.healthySince)) / 1000);
      waitsFor.push(`${n.name}: healthy for ${held} s of ${state.strategy.minHealthyMs / 1000} s (gate deadline in ${left(n.deadline)})`);
    } else {
      waitsFor.push(`${n.name}: waits for ${what} generation ${generation}, converged and ready (gate deadline in ${left(n.deadline)})`);
    }
  }
  return { waitsFor, timeLeftMs: soonest, failureDomainNote: failureDomainNote(state) };
}
