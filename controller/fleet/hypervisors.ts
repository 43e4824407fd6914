// The hypervisor mapper: keeps every enrolled node's hypervisor (its failure domain) current from
// live Nova. A refresh is ONE paged all-projects server listing plus one hypervisor listing, never
// a request per node, placed by hypervisor-map.ts; only changes are written, each with its
// `node.failure-domain` event. Refreshes run at start, after an enrolment, when a node's facts
// change and every intervalMs; triggers that arrive while one runs make one more, bursts within
// settleMs make one, and two never start closer than minGapMs. Nova unreachable or slower than
// deadlineMs: logged with its code, the previous mapping kept, tried again at the next trigger.
// Nothing here blocks polls or rollouts: they never wait for a refresh.
import type { Logger } from 'pino';
import { isNwError, NwError } from '../../host/errors.js';
import type { RawServer } from '../../openstack/nova.js';
import type { HypervisorView } from '../../openstack/types.js';
import type { NodeFacts, Store } from '../store/store.js';
import { changedPlacements, failureDomainEvent, placeNodes, type NodePlacement } from './hypervisor-map.js';

/** The two Nova listings a refresh needs (NovaClient has them). */
export interface NovaListings {
  listAllServers(): Promise<RawServer[]>;
  listHypervisorsDetail(): Promise<HypervisorView[]>;
}

export type RefreshOutcome =
  | { ok: true; ms: number; nodes: number; mapped: number; changed: number; servers: number }
  | { ok: false; ms: number; code: string; message: string };

export interface HypervisorMapperOptions {
  store: Pick<Store, 'listNodes' | 'setNodeHypervisors'>;
  /** Nova, connected lazily (rejects while the cloud is unreachable; asked again next time). */
  nova: () => Promise<NovaListings>;
  /** The facts of the node's latest status (the poller's), null before its first one. */
  latestFacts: (name: string) => Partial<NodeFacts> | null;
  log: Logger;
  intervalMs: number;
  /** A refresh (connect + both listings) that takes longer is given up. Default 120 s. */
  deadlineMs?: number;
  /** Triggers within this are one refresh. Default 1 s. */
  settleMs?: number;
  /** Two refreshes never start closer than this. Default min(10 s, intervalMs). */
  minGapMs?: number;
  now?: () => Date;
  onRefresh?: (r: RefreshOutcome) => void;
}

/** Changes per store transaction: a first mapping of 20,000 nodes is not one long write. */
const WRITE_BATCH = 500;

export class HypervisorMapper {
  private interval: NodeJS.Timeout | null = null;
  private scheduled: NodeJS.Timeout | null = null;
  private running: Promise<RefreshOutcome> | null = null;
  private again = false;
  private stopped = false;
  private lastStart = 0;
  private readonly now: () => Date;

  constructor(private readonly o: HypervisorMapperOptions) {
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.interval || this.stopped) return;
    this.interval = setInterval(() => this.trigger('interval'), this.o.intervalMs);
    this.trigger('start');
  }

  stop(): void {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.scheduled) clearTimeout(this.scheduled);
    this.interval = this.scheduled = null;
  }

  /** Refresh soon (coalesced). `why` is logged at debug. */
  trigger(why: string): void {
    if (this.stopped) return;
    this.o.log.debug({ why }, 'hypervisor mapping requested');
    if (this.running) return void (this.again = true);
    if (this.scheduled) return;
    const gap = this.o.minGapMs ?? Math.min(10_000, this.o.intervalMs);
    const delay = Math.max(this.o.settleMs ?? 1000, this.lastStart + gap - Date.now());
    this.scheduled = setTimeout(() => {
      this.scheduled = null;
      void this.refresh();
    }, delay);
  }

  /** One refresh now (or the one running). Never rejects. */
  refresh(): Promise<RefreshOutcome> {
    if (this.running) return this.running;
    this.lastStart = Date.now();
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.trigger('changed during a refresh');
      }
    });
    return this.running;
  }

  private async run(): Promise<RefreshOutcome> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    let outcome: RefreshOutcome;
    try {
      const deadlineMs = this.o.deadlineMs ?? 120_000;
      const [servers, hypervisors] = await withDeadline(
        this.o.nova().then((n) => Promise.all([n.listAllServers(), n.listHypervisorsDetail()])),
        deadlineMs,
      );
      if (this.stopped) throw new Error('stopped');
      // the inventory after the listings: a node enrolled meanwhile is placed now, not next time
      const nodes = await this.o.store.listNodes();
      const placements = placeNodes(nodes, this.o.latestFacts, servers, hypervisors);
      const changed = await this.write(changedPlacements(nodes, placements));
      outcome = { ok: true, ms: ms(), nodes: nodes.length, mapped: placements.filter((p) => p.to).length, changed, servers: servers.length };
      this.o.log[changed ? 'info' : 'debug'](outcome, 'hypervisor mapping refreshed');
    } catch (e) {
      const code = isNwError(e) ? e.code : 'NW_OPENSTACK';
      outcome = { ok: false, ms: ms(), code, message: (e as Error).message };
      if (!this.stopped) this.o.log.warn({ code, err: outcome.message, ms: outcome.ms }, 'hypervisor mapping failed: the previous mapping is kept, tried again at the next refresh');
    }
    this.o.onRefresh?.(outcome);
    return outcome;
  }

  private async write(changes: NodePlacement[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < changes.length && !this.stopped; i += WRITE_BATCH) {
      const at = this.now().toISOString();
      const names = await this.o.store.setNodeHypervisors(changes.slice(i, i + WRITE_BATCH), (c, from) => failureDomainEvent(c as NodePlacement, from, at));
      written += names.length;
      if (i + WRITE_BATCH < changes.length) await new Promise((r) => setImmediate(r)); // polls and rollouts run between batches
    }
    return written;
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NwError('NW_OPENSTACK', `Nova did not answer the server and hypervisor listings within ${ms} ms; check that Nova is up and not overloaded`, { timeout: true })), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
