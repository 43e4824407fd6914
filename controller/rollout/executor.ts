// The rollout executor: the only side of a rollout that acts. It feeds the pure engine with
// observations from the fleet view (in memory, fed by the poller; loaded from the store at
// start), commits each transition (next state + the desired records it
// signs + its events) as ONE store transaction, and only then pushes. Push outcomes come back
// through the engine (pushed) as their own transition. Transitions of one rollout are serial.
// After a restart, start() lets the engine observe pushes in doubt (recover) and rebuilds the
// timers from the deadlines stored in the state.
import { isNwError, NwError, type ErrorCode } from '../../host/errors.js';
import type { FleetView } from '../fleet/view.js';
import type { ControllerEvent, DesiredRecord, NodeObservation, NodeRecord, Store } from '../store/store.js';
import { bindDesired, rebindDesired, sameSpec, type DesiredTemplate } from './bind.js';
import { failureDomainOf, type FailureDomainSource } from './domains.js';
import {
  command, isInFlight, newRollout, nextToPush, pushed, recover, renumberPush, step,
  type Action, type Command, type PushOutcome, type RolloutState, type Transition,
} from './engine.js';
import type { GateResult } from './gates.js';
import type { Strategy } from './strategy.js';
import { isFinished } from './summary.js';

export interface ExecutorDeps {
  store: Store;
  /** Groups and latest observations of the nodes (the poller keeps it current). */
  view: FleetView;
  /** Sign a desired state into a bundle (protocol/bundle.ts signBundle with the fleet key). */
  sign(desired: Record<string, unknown>): unknown;
  /** POST the bundle to the node's agent. Throwing is fine: coded refusals count as definite. */
  push(node: NodeRecord, bundle: unknown): Promise<PushOutcome>;
  now(): string;
  /** The latest results of a rollout's gates (controller/gates/watcher.ts); undefined: none yet. */
  gateResults?(rolloutId: string): GateResult[] | undefined;
  /** Lifetime of each signed bundle (its notAfter); default 24 h. */
  bundleValidMs?: number;
  /** Longest sleep between two steps of a rollout that is waiting on gates (default 1 s). */
  tickMs?: number;
  onError?(e: unknown, rolloutId: string): void;
  onTransition?(next: RolloutState, actions: Action[]): void;
}

type NewEvent = Omit<ControllerEvent, 'id'>;

export const DEFAULT_BUNDLE_VALID_MS = 24 * 3_600_000;
/** A bundle this close to its notAfter is not sent again (it could expire on its way): it is signed anew. */
const EXPIRY_MARGIN_MS = 60_000;

const expiring = (desired: unknown, now: string): boolean => {
  const notAfter = (desired as { notAfter?: unknown } | null)?.notAfter;
  return typeof notAfter === 'string' && Date.parse(notAfter) - Date.parse(now) < EXPIRY_MARGIN_MS;
};
type Decide = (s: RolloutState, obs: Record<string, NodeObservation>, now: string, domains?: Record<string, string>) => Transition;

/** Answers of an agent that mean "this bundle was not applied and will not be". */
const DEFINITE: ErrorCode[] = ['NW_STALE', 'NW_GENERATION_CONFLICT', 'NW_TARGET', 'NW_EXPIRED', 'NW_SIGNATURE', 'NW_BUNDLE', 'NW_AUTH', 'NW_FORBIDDEN'];

export function outcomeOf(e: unknown): PushOutcome {
  if (isNwError(e)) {
    // the agent's own code (an NW_PUSH refusal carries it, fleet/agent-client.ts refusalOf)
    const agentCode = e.details?.agentCode;
    const definite = DEFINITE.includes(e.code) || (typeof agentCode === 'string' && (DEFINITE as string[]).includes(agentCode));
    return { ok: false, definite, reason: `${e.code}: ${e.message}` };
  }
  return { ok: false, definite: false, reason: e instanceof Error ? e.message : String(e) };
}

/** Events for what a transition changed, for the audit log. */
export function eventsOf(before: RolloutState, next: RolloutState, actor: string, now: string): NewEvent[] {
  const out: NewEvent[] = [];
  for (const n of next.nodes) {
    const b = before.nodes.find((x) => x.name === n.name);
    if (b && b.failureDomain !== n.failureDomain) {
      out.push({
        at: now, actor, kind: 'rollout.node.domain-changed', subject: n.name,
        message: `${next.id}: ${n.name} moved from failure domain ${b.failureDomain} to ${n.failureDomain} before its push; it is pushed by its new domain`,
        data: { rollout: next.id, from: b.failureDomain, to: n.failureDomain },
      });
    }
    if (b && b.phase === n.phase) continue;
    // A rollback is its own generation (the previous content, signed anew): name that one.
    const generation = n.phase === 'rolling_back' || n.phase === 'rolled_back' ? n.rollbackGeneration : n.targetGeneration;
    out.push({
      at: now, actor, kind: `rollout.node.${n.phase}`, subject: n.name,
      message: `${next.id}: ${n.name} ${n.phase.replace('_', ' ')}${generation ? ` (generation ${generation})` : ''}${n.reason ? `: ${n.reason}` : ''}`,
      data: { rollout: next.id, generation },
    });
  }
  for (const g of next.gates ?? []) {
    const b = before.gates?.find((x) => x.index === g.index);
    if (b?.pass === g.pass) continue;
    out.push({
      at: now, actor, kind: g.pass ? 'rollout.gate.passed' : 'rollout.gate.failed', subject: next.id,
      message: `${next.id}: gate ${g.gate} ${g.pass ? 'passes' : 'holds'}: ${g.message}`,
      data: { rollout: next.id, gate: g.gate, pass: g.pass },
    });
  }
  if (before.state !== next.state) {
    out.push({ at: now, actor, kind: `rollout.${next.state}`, subject: next.id, message: `${next.id} ${next.state}${next.reason ? `: ${next.reason}` : ''}`, data: { rollout: next.id } });
  }
  return out;
}

export class RolloutExecutor {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;
  private recovered: string[] | null = null;

  constructor(private readonly deps: ExecutorDeps) {}

  /**
   * The first thing a restarted controller does: every push in doubt is observed or sent again
   * (the same signed bundle: nothing to sign). Every later step of those rollouts waits for
   * `ready` (what signing new bundles needs, loaded meanwhile).
   */
  async recover(ready: Promise<unknown> = Promise.resolve()): Promise<void> {
    this.recovered ??= [];
    for (const r of await this.deps.store.activeRollouts()) {
      await this.serial(r.id, () => this.transition(r.id, recover, 'controller'));
      void this.serial(r.id, () => ready);
      this.recovered.push(r.id);
    }
  }

  /** Continue every rollout still going: pushes in doubt are observed, timers come from stored deadlines. */
  async start(): Promise<void> {
    if (!this.recovered) await this.recover();
    for (const id of this.recovered!) await this.tick(id);
  }

  /** False once stopped: on shutdown, or because a newer controller holds the epoch. */
  get acting(): boolean {
    return !this.stopped;
  }

  /** Stop acting: timers cleared, outcomes of pushes still running are dropped. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Resolves when no push started by this executor is still running. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async create(o: {
    id: string; target: string; nodes: NodeRecord[]; strategy: Strategy; desired: DesiredTemplate; actor: string;
    /** Each node's failure domain where the source maps it (others are their own domain). */
    failureDomains?: Record<string, string>;
    /** Where failureDomains came from; stored with the rollout, and used to re-check domains before each push. */
    failureDomainSource?: FailureDomainSource;
  }): Promise<RolloutState> {
    const { store } = this.deps;
    const now = this.deps.now();
    // two rollouts pushing one node would undo each other
    const wanted = new Set(o.nodes.map((n) => n.name));
    for (const r of await store.activeRollouts()) {
      const busy = r.state.nodes.find((n) => wanted.has(n.name));
      if (busy) throw new NwError('NW_ROLLOUT', `node ${busy.name} is in rollout ${r.id} (${r.state.state}); let it complete or abort it first`);
    }
    const nodes = [];
    for (const n of o.nodes) {
      const last = await store.lastDesired(n.name);
      nodes.push({
        name: n.name,
        failureDomain: o.failureDomains?.[n.name],
        baseGeneration: (await store.nextGeneration(n.name)) - 1,
        previousGeneration: last?.generation ?? null,
        // a rollback must change something: no previous state, or the same spec, means none
        canRollBack: last !== null && !sameSpec(last.desired, bindDesired(o.desired, n, last.generation)),
      });
    }
    const state = newRollout({ id: o.id, target: o.target, nodes, strategy: o.strategy, now, desired: o.desired, failureDomainSource: o.failureDomainSource });
    const domains = `failure domains: ${state.failureDomainSource}${state.unmapped ? `, ${state.unmapped} node(s) unmapped (each its own domain)` : ''}`;
    await store.createRollout({ id: o.id, state, createdAt: now, updatedAt: now }, [
      {
        at: now, actor: o.actor, kind: 'rollout.created', subject: o.id,
        message: `${o.id} created for ${o.target}: ${nodes.length} node(s) in ${state.waveCount} wave(s); ${domains}`,
        data: { rollout: o.id, failureDomainSource: state.failureDomainSource, unmapped: state.unmapped },
      },
    ]);
    return this.tick(o.id);
  }

  async command(id: string, cmd: Command): Promise<RolloutState> {
    await this.serial(id, () => this.transition(id, (s, _obs, now) => command(s, cmd, now), cmd.actor));
    return this.tick(id);
  }

  /** Step the rollout now (the poller calls it when an observation of one of its nodes changed). */
  tick(id: string): Promise<RolloutState> {
    return this.serial(id, () => this.transition(id, (s, obs, now, domains) => step(s, obs, now, domains, this.deps.gateResults?.(id)), 'controller', true));
  }

  /** The current failure domain of the nodes the next push comes from (the re-check for live migrations). */
  private async domainsNow(s: RolloutState): Promise<Record<string, string> | undefined> {
    const source = s.failureDomainSource;
    if (!source || source === 'none' || s.state === 'paused' || s.state === 'halted') return undefined;
    const out: Record<string, string> = {};
    for (const n of nextToPush(s)) {
      const rec = await this.deps.store.getNode(n.name);
      const d = rec ? failureDomainOf(rec, source).failureDomain : null;
      if (d) out[n.name] = d;
    }
    return out;
  }

  private serial<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    const run = (this.chains.get(id) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.chains.set(id, run);
    return run;
  }

  /** `withDomains`: the step re-checks the failure domains of the nodes it may push next. */
  private async transition(id: string, decide: Decide, actor: string, withDomains = false): Promise<RolloutState> {
    const { store } = this.deps;
    const rec = await store.getRollout(id);
    if (!rec) throw new NwError('NW_NOT_FOUND', `no rollout ${id}; see \`nodewright rollout ls\``);
    const before = rec.state;
    if (this.stopped) return before;
    const now = this.deps.now();
    const domains = withDomains ? await this.domainsNow(before) : undefined;
    const tr = decide(before, this.deps.view.observationsAround(before.nodes.map((n) => n.name)), now, domains);
    let next = tr.next;
    const pushes: Array<{ node: string; generation: number; bundle: unknown }> = [];
    const records: DesiredRecord[] = [];
    const resigned: NewEvent[] = [];
    const notAfter = new Date(Date.parse(now) + (this.deps.bundleValidMs ?? DEFAULT_BUNDLE_VALID_MS)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const a of tr.actions) {
      if (a.kind !== 'push') continue;
      const signed = await store.desiredAt(a.node, a.generation);
      if (signed && !expiring(signed.desired, now)) {
        pushes.push({ node: a.node, generation: a.generation, bundle: signed.bundle }); // a push in doubt: the same bundle again
        continue;
      }
      if (!(await store.getNode(a.node))) {
        pushes.push({ node: a.node, generation: a.generation, bundle: null }); // launch() reports it as refused
        continue;
      }
      let generation = a.generation;
      let desired: Record<string, unknown>;
      if (signed) {
        // in doubt and expired: the same content as a NEW generation, signed again
        generation = Math.max(await store.nextGeneration(a.node), a.generation + 1);
        next = renumberPush(next, a.node, a.generation, generation, now);
        desired = rebindDesired(signed.desired, generation);
        const was = (signed.desired as { notAfter?: string }).notAfter;
        resigned.push({
          at: now, actor, kind: 'rollout.node.resigned', subject: a.node,
          message: `${id}: generation ${a.generation} of ${a.node} expired (${was}) before it was applied; sent again as generation ${generation}`,
          data: { rollout: id, generation, expired: a.generation },
        });
      } else {
        desired = await this.desiredFor(before, a);
      }
      desired = { ...desired, notAfter };
      const bundle = this.deps.sign(desired);
      records.push({ node: a.node, generation, desired, bundle, at: now });
      pushes.push({ node: a.node, generation, bundle });
    }
    if (next !== before) {
      await store.commitTransition(id, before.version, next, records, [...eventsOf(before, next, actor, now), ...resigned]);
      this.deps.onTransition?.(next, tr.actions);
    }
    // only after the commit: a crash before this line leaves the push "in doubt", never unrecorded;
    // a controller stopped meanwhile (deposed) pushes nothing: the leader re-sends what is in doubt
    if (this.stopped) return next;
    for (const p of pushes) this.launch(id, p.node, p.generation, p.bundle);
    this.schedule(id, next, tr.actions, now);
    return next;
  }

  private async desiredFor(s: RolloutState, a: Extract<Action, { kind: 'push' }>): Promise<Record<string, unknown>> {
    const node = (await this.deps.store.getNode(a.node))!;
    const n = s.nodes.find((x) => x.name === a.node)!;
    if (a.desired === 'target') return bindDesired(s.desired as DesiredTemplate, node, a.generation);
    const previous = n.previousGeneration === null ? null : await this.deps.store.desiredAt(a.node, n.previousGeneration);
    if (!previous) throw new NwError('NW_STATE', `the previous desired state of ${a.node} (generation ${n.previousGeneration}) is missing from the store; roll it back by hand`);
    return rebindDesired(previous.desired, a.generation);
  }

  private launch(id: string, name: string, generation: number, bundle: unknown): void {
    const task = (async () => {
      const node = await this.deps.store.getNode(name);
      let outcome: PushOutcome;
      try {
        outcome = node && bundle !== null
          ? await this.deps.push(node, bundle)
          : { ok: false, definite: true, reason: `node ${name} is no longer enrolled` };
      } catch (e) {
        outcome = outcomeOf(e);
      }
      if (this.stopped) return;
      await this.serial(id, () => this.transition(id, (s, _obs, now) => pushed(s, name, generation, outcome, now), 'controller'));
      await this.tick(id);
    })().catch((e) => this.fail(e, id));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private fail(e: unknown, id: string): void {
    // a newer controller holds the epoch: this one must not act any more
    if (isNwError(e) && e.code === 'NW_STATE') this.stop();
    this.deps.onError?.(e, id);
  }

  private schedule(id: string, s: RolloutState, actions: Action[], now: string): void {
    const old = this.timers.get(id);
    if (old) clearTimeout(old);
    this.timers.delete(id);
    if (this.stopped || isFinished(s)) return;
    const watching = s.nodes.some(isInFlight) || s.state === 'running' || s.state === 'waiting';
    const wait = actions.find((a): a is Extract<Action, { kind: 'wait' }> => a.kind === 'wait');
    if (!watching && !wait) return; // paused or halted with nothing in flight: a command wakes it
    const tickMs = this.deps.tickMs ?? 1000;
    const untilMs = wait ? Date.parse(wait.until) - Date.parse(now) : tickMs;
    // setTimeout fires at once beyond 2^31 ms: a window days away is re-checked hourly
    const delay = Math.min(Math.max(0, watching ? Math.min(untilMs, tickMs) : untilMs), 3_600_000);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.tick(id).catch((e) => this.fail(e, id));
    }, delay);
    timer.unref();
    this.timers.set(id, timer);
  }
}
