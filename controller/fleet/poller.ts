// The health poller: GET /v1/status of every enrolled node over keep-alive TLS, with a concurrency
// limit, a per-request timeout, a jittered interval, exponential backoff for unreachable nodes and
// a fast interval for nodes a rollout is pushing to or gating. Conditional requests (ETag) let an
// unchanged agent answer 304. Only changes reach the store; health transitions become events.
// Requests go through the agent client (bounded, deadlined, schema-checked, certificate pinned):
// nothing an agent answers can throw out of a poll.
import type { Logger } from 'pino';
import type { AgentStatus } from '../../protocol/status.js';
import type { NodeFacts, NodeObservation, NodeRecord, Store } from '../store/store.js';
import type { AgentClient, AgentTarget } from './agent-client.js';
import { PIN_HANDOVER_MS } from './agent-tls.js';
import { judge, nextDelayMs, type PollOutcome } from './health.js';
import type { FleetView } from './view.js';

export interface PollerOptions {
  store: Store;
  log: Logger;
  client: AgentClient;
  intervalMs: number;
  fastIntervalMs: number;
  /** Total deadline of one poll (connect to the last byte). */
  timeoutMs: number;
  concurrency: number;
  maxBackoffMs: number;
  /** Kept current with every poll's observation and the inventory (the executor reads it). */
  view?: FleetView;
  /** Nodes a rollout is pushing to or gating right now (polled at fastIntervalMs). */
  fast?: () => ReadonlySet<string>;
  now?: () => Date;
  /** An observation of this node changed (written to the store). */
  onChange?: (node: string) => void;
  onPoll?: (node: string, ms: number, outcome: PollOutcome['kind'] | 'not-modified') => void;
  /** A status reported facts (hostname, addresses, instanceUuid) other than the node's last ones (at first: those it joined with). */
  onFacts?: (node: string) => void;
}

interface Slot {
  node: NodeRecord;
  /** Made once per node (not per poll), again when its url or enrolled certificate changes. */
  target: AgentTarget;
  /** The highest generation signed for the node, as last read from the store (it only grows). */
  signed: number;
  dueAt: number;
  failures: number;
  inflight: boolean;
  etag?: string;
  obs?: NodeObservation;
  /** What the store holds for the node since this poller wrote or confirmed it. */
  stored?: NodeObservation;
  status?: AgentStatus;
}

/** The inventory is re-read at most this often, and never for more than ~0.5 % of the time. */
const LIST_EVERY_MS = 1000;
const LIST_SHARE = 200;

const sameFacts = (a: Partial<NodeFacts>, b: Partial<NodeFacts>): boolean =>
  a.hostname === b.hostname && a.instanceUuid === b.instanceUuid && (a.addresses ?? []).join(',') === (b.addresses ?? []).join(',');

const sameObservation = (a: Omit<NodeObservation, 'at'>, b: Omit<NodeObservation, 'at'>): boolean =>
  a.health === b.health && a.reason === b.reason && a.generation === b.generation && a.converged === b.converged && a.ready === b.ready;

export class Poller {
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private inflight = 0;
  private listedAt = 0;
  private listEveryMs = LIST_EVERY_MS;
  private listing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => Date;

  constructor(private readonly o: PollerOptions) {
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(20, Math.min(100, this.o.fastIntervalMs / 4)));
    this.tick();
  }

  /** No new polls; what polls still in flight learn is dropped. Resolves when none is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.inflight) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** What the last poll saw (null before the first poll). */
  latest(name: string): { observation: NodeObservation; status: AgentStatus | null } | null {
    const s = this.slots.get(name);
    return s?.obs ? { observation: s.obs, status: s.status ?? null } : null;
  }

  observations(): Record<string, NodeObservation> {
    const out: Record<string, NodeObservation> = {};
    for (const [name, s] of this.slots) if (s.obs) out[name] = s.obs;
    return out;
  }

  /** Poll this node at the next tick (after a push, or a newly enrolled node). */
  soon(name: string): void {
    const s = this.slots.get(name);
    if (s) s.dueAt = 0;
    else this.listedAt = 0;
  }

  /**
   * The node's certificate was renewed (the store already pins the new one): pin it now, and accept
   * the one it replaces for a handover — the agent swaps its certificate only after it has the answer.
   */
  repin(name: string, certSha256: string): void {
    const s = this.slots.get(name);
    if (!s || s.node.certSha256 === certSha256) return;
    const previousCertSha256 = s.node.certSha256;
    s.node = { ...s.node, certSha256 };
    s.target = { ...s.target, node: { name, certSha256, previousCertSha256, previousUntil: Date.now() + PIN_HANDOVER_MS } };
  }

  /** Poll one node now and wait for the result (used by the executor's gate checks and tests). */
  async pollOnce(name: string): Promise<NodeObservation | null> {
    await this.refresh(Date.now(), true);
    const s = this.slots.get(name);
    if (!s) return null;
    await this.poll(s);
    return s.obs ?? null;
  }

  /** Re-read the inventory when due (forced: now); one listing at a time, polls go on meanwhile. */
  private refresh(t: number, force = false): Promise<void> {
    if (this.listing) return this.listing;
    if (!force && t - this.listedAt < this.listEveryMs) return Promise.resolve();
    this.listing = this.list().finally(() => {
      this.listing = null;
    });
    return this.listing;
  }

  private async list(): Promise<void> {
    const t0 = performance.now();
    let nodes: NodeRecord[];
    try {
      nodes = await this.o.store.listNodes();
    } catch (e) {
      // the database is away (restarting, failing over): the nodes already known are still polled
      this.o.log.warn({ err: (e as Error).message }, 'cannot list the inventory; polling the nodes already known');
      this.listedAt = Date.now();
      return;
    }
    const t = Date.now();
    const seen = new Set<string>();
    for (const n of nodes) {
      seen.add(n.name);
      const s = this.slots.get(n.name);
      if (s && s.node.url === n.url && s.node.certSha256 === n.certSha256) s.node = n;
      else {
        this.slots.set(n.name, {
          node: n, target: { url: n.url, node: { name: n.name, certSha256: n.certSha256 } }, signed: 0,
          dueAt: t + Math.random() * Math.min(this.o.intervalMs, 1000), failures: 0, inflight: false,
        });
      }
    }
    for (const name of this.slots.keys()) if (!seen.has(name)) this.slots.delete(name);
    this.o.view?.sync(nodes);
    // a big fleet is listed less often (enrollment still shows at once: soon() forces a listing)
    this.listedAt = Date.now();
    this.listEveryMs = Math.max(LIST_EVERY_MS, (performance.now() - t0) * LIST_SHARE);
  }

  private tick(): void {
    const t = Date.now();
    void this.refresh(t);
    const fast = this.o.fast?.() ?? new Set<string>();
    // When more are due than the concurrency limit allows (a slow first round: TLS handshakes), the
    // nodes that answered their last poll go first, most overdue first: a cheap poll on a live
    // connection is never parked behind handshakes until that connection times out.
    const free = this.o.concurrency - this.inflight;
    if (free <= 0) return;
    const due: Array<{ at: number; live: boolean; s: Slot }> = [];
    for (const s of this.slots.values()) {
      if (s.inflight) continue;
      const at = fast.has(s.node.name) && s.failures === 0 ? Math.min(s.dueAt, (s.obs ? Date.parse(s.obs.at) : 0) + this.o.fastIntervalMs) : s.dueAt;
      if (at <= t) due.push({ at, live: s.obs !== undefined && s.failures === 0, s });
    }
    if (due.length > free) due.sort((a, b) => (a.live === b.live ? a.at - b.at : a.live ? -1 : 1));
    for (let k = 0; k < Math.min(free, due.length); k++) void this.poll(due[k].s);
  }

  private async poll(s: Slot): Promise<void> {
    if (s.inflight) return;
    s.inflight = true;
    this.inflight++;
    const t0 = performance.now();
    try {
      const { outcome, etag } = await this.o.client.status(s.target, { etag: s.obs ? s.etag : undefined, deadlineMs: this.o.timeoutMs });
      if (this.stopped) return; // cut short by the stop: not something the agent said
      this.o.onPoll?.(s.node.name, performance.now() - t0, outcome === 'not-modified' ? 'not-modified' : outcome.kind);
      const at = this.now().toISOString();
      let obs: NodeObservation;
      if (outcome === 'not-modified' && s.obs) obs = { ...s.obs, at };
      else {
        obs = judge(outcome === 'not-modified' ? { kind: 'error', message: '304 without an earlier status' } : outcome, at, s.obs, await this.signed(s, outcome));
        if (outcome !== 'not-modified' && outcome.kind === 'status') {
          const before = s.status?.facts ?? s.node.facts;
          s.status = outcome.status;
          if (!sameFacts(before, outcome.status.facts)) this.o.onFacts?.(s.node.name);
          // a status judged on an unsigned generation is asked for in full again (no 304 keeps that verdict)
          s.etag = obs.generation === (outcome.status.desired?.generation ?? null) ? etag : undefined;
        } else s.etag = undefined;
      }
      s.failures = obs.health === 'unreachable' ? s.failures + 1 : 0;
      await this.record(s, obs);
    } catch (e) {
      // a bug, not an agent: logged, the node polled again later
      this.o.log.error({ node: s.node.name, err: (e as Error).message }, 'poll failed');
    } finally {
      s.dueAt = Date.now() + nextDelayMs({ intervalMs: this.o.intervalMs, failures: s.failures, maxBackoffMs: this.o.maxBackoffMs });
      s.inflight = false;
      this.inflight--;
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async record(s: Slot, obs: NodeObservation): Promise<void> {
    const before = s.obs ?? s.node;
    s.obs = obs;
    if (!this.slots.has(s.node.name)) return; // removed while the poll ran
    this.o.view?.observe(s.node.name, obs);
    // only changes reach the store: an unchanged poll (most of them, 304 or not) costs no transaction
    if (sameObservation(s.stored ?? s.node, obs)) return;
    try {
      const written = await this.o.store.observeNode(s.node.name, obs);
      s.stored = obs;
      if (written) this.o.onChange?.(s.node.name);
      if (before.health !== obs.health) {
        await this.o.store.appendEvent({
          at: obs.at,
          actor: 'poller',
          kind: 'node.health',
          subject: s.node.name,
          message: `${s.node.name}: ${before.health} → ${obs.health}${obs.reason ? ` (${obs.reason})` : ''}`,
          data: { from: before.health, to: obs.health, reason: obs.reason },
        });
        this.o.log.info({ node: s.node.name, from: before.health, to: obs.health, reason: obs.reason }, 'node health changed');
      }
    } catch (e) {
      this.o.log.error({ node: s.node.name, err: (e as Error).message }, 'cannot record the observation');
    }
  }

  /** The highest generation signed for the node: read again only when a status reports one above it. */
  private async signed(s: Slot, outcome: PollOutcome | 'not-modified'): Promise<number> {
    const reported = outcome !== 'not-modified' && outcome.kind === 'status' ? outcome.status.desired?.generation : undefined;
    if (typeof reported === 'number' && reported > s.signed) s.signed = await this.o.store.signedGeneration(s.node.name);
    return s.signed;
  }
}
