// The controller's store: the only door to its database. SQLite (sqlite.ts, embedded) or PostgreSQL
// (postgres.ts, the HA mode), behind one asynchronous interface.
// Every write is one transaction fenced by the leader epoch: a controller that is no longer the
// leader cannot write (NW_STATE "another controller took over"). All times are ISO strings (UTC);
// `now` is passed in, never read inside the store.
import type { RolloutState } from '../rollout/engine.js';
import type { RolloutSummary } from '../rollout/summary.js';
import type { PruneReport, RetentionPolicy } from './retention.js';

export type NodeHealth = 'healthy' | 'degraded' | 'unreachable' | 'unknown';
/** How a worker was matched to its Nova server (openstack/worker-map.ts rules uuid, ip, name). */
export type HypervisorRule = 'instance-uuid' | 'fixed-ip' | 'name';
export interface NodeFacts { hostname: string; addresses: string[]; runtime?: 'rkt' | 'native'; instanceUuid?: string }
export interface NodeRecord {
  name: string; group: string; labels: Record<string, string>;
  url: string;                 // https://HOST:PORT the controller polls and pushes to
  certSha256: string;          // fingerprint of the cert the controller issued (enrolment or renewal): pinned on every call
  certNotAfter?: string | null; // its not-after (null for nodes enrolled before it was recorded)
  facts: NodeFacts; enrolledAt: string;
  /** The hypervisor (Nova compute host) running this worker, and the rule that found it; null while unmapped. */
  hypervisor?: string | null; hypervisorRule?: HypervisorRule | null;
  health: NodeHealth; reason: string | null; healthSince: string; lastSeenAt: string | null;
  generation: number | null;   // the generation the agent last reported holding (only one the controller signed)
  converged: boolean; ready: boolean;
}
/** Where the controller last found a worker in Nova. */
export interface HypervisorMapping { hypervisor: string; rule: HypervisorRule }
/** A node's new mapping (null: unmapped) for setNodeHypervisors. */
export interface HypervisorChange { name: string; to: HypervisorMapping | null }
export interface NodeObservation {
  health: NodeHealth; reason: string | null; generation: number | null; converged: boolean; ready: boolean;
  at: string;
}
export interface JoinToken { id: string; secretHash: string; group: string; labels: Record<string, string>; expiresAt: string; createdAt: string; usedAt: string | null; usedBy: string | null }
export interface ControllerEvent { id: number; at: string; actor: string; kind: string; subject: string; message: string; data?: unknown }
export interface ArtifactRecord { kind: 'kubelet-binary'; version: string; sha256: string; size: number; signature: string; addedAt: string }
export interface DesiredRecord { node: string; generation: number; desired: unknown /* signed desired state */; bundle: unknown /* SignedBundle */; at: string }
export interface RolloutRecord {
  id: string; state: RolloutState /* rollout/engine.ts */; createdAt: string; updatedAt: string;
  /** Set when retention dropped the per-node detail of this finished rollout (state.nodes is then empty)… */
  pruned?: boolean;
  /** …with the summary it keeps. */
  summary?: RolloutSummary;
}
/** A one-time dashboard sign-in code (`nodewright ui`): only its sha256 is stored. */
export interface UiLoginCode { codeHash: string; actor: string /* 'operator:alice' */; readOnly: boolean; createdAt: string; expiresAt: string }
/** A dashboard session: keyed by the sha256 of its cookie; `csrf` is its synchronizer token. */
export interface UiSessionRecord { idHash: string; actor: string; readOnly: boolean; csrf: string; createdAt: string; expiresAt: string }
/** queryEvents' filters: `kind` is exact, or a prefix when it ends in '.'; `beforeId` pages back. */
export interface EventQuery { subject?: string; actor?: string; kind?: string; beforeId?: number; limit: number }
/** A page of rollout summaries, newest first; `next` is the cursor of the following page. */
export interface RolloutPage { rollouts: RolloutSummary[]; next: string | null }

export interface Store {
  readonly epoch: number;
  close(): Promise<void>;
  // join tokens: the secret is never stored, only its sha256
  addJoinToken(t: JoinToken): Promise<void>;
  /** Atomically mark the token used by `node`; NW_TOKEN if unknown, used or expired. */
  consumeJoinToken(id: string, secretHash: string, node: string, now: string): Promise<JoinToken>;
  /** The token if it would be accepted now (known, unused, unexpired), NW_TOKEN otherwise; writes nothing. */
  checkJoinToken(id: string, secretHash: string, now: string): Promise<JoinToken>;
  // inventory
  putNode(n: NodeRecord): Promise<void>;         // insert or replace (tests, benches; enrolment uses insertNode)
  /**
   * Enrolment as ONE transaction: insert the node (NW_EXISTS if the name is enrolled: re-enrolment
   * only after removeNode), spend the join token (NW_TOKEN if unknown, used or expired) and append the events.
   */
  insertNode(n: NodeRecord, token: { id: string; secretHash: string; at: string }, events: Omit<ControllerEvent, 'id'>[]): Promise<void>;
  /**
   * Renewal as ONE transaction: replace the pinned certificate of `name` only while it is still
   * `fromSha256` (NW_AUTH otherwise: removed, or renewed meanwhile), and append the event.
   */
  renewNodeCert(name: string, fromSha256: string, to: { certSha256: string; certNotAfter: string }, event: Omit<ControllerEvent, 'id'>): Promise<void>;
  getNode(name: string): Promise<NodeRecord | null>;
  listNodes(filter?: { group?: string; labels?: Record<string, string>; names?: string[] }): Promise<NodeRecord[]>;
  /** Removes the node and purges its history (desired rows, keyrings no longer referred to); events stay. */
  removeNode(name: string): Promise<boolean>;
  setLabels(name: string, labels: Record<string, string>): Promise<void>;
  /** Writes only when something changed; returns true then (so the poller writes only changes). */
  observeNode(name: string, o: NodeObservation): Promise<boolean>;
  /**
   * Hypervisor mappings as ONE transaction: each node whose mapping differs is written with the
   * event `eventOf(change, from)` gives (null: none); unchanged and removed nodes are skipped.
   * Returns the names written.
   */
  setNodeHypervisors(changes: HypervisorChange[], eventOf: (c: HypervisorChange, from: HypervisorMapping | null) => Omit<ControllerEvent, 'id'> | null): Promise<string[]>;
  // audit log
  appendEvent(e: Omit<ControllerEvent, 'id'>): Promise<number>;
  listEvents(opts?: { afterId?: number; limit?: number }): Promise<ControllerEvent[]>;
  /** The audit log newest first, filtered (kind: exact or prefix ending in '.'), before an id (paging); limit 1–1000. */
  queryEvents(q: EventQuery): Promise<ControllerEvent[]>;
  // dashboard sign-in: a browser's state, not the fleet's, so PostgreSQL writes them unfenced
  // (every controller of an HA set, followers included, signs browsers in); the audit events
  // given go into the same transaction, unfenced too (a follower's fenced write would depose it)
  addUiLoginCode(c: UiLoginCode, events?: Omit<ControllerEvent, 'id'>[]): Promise<void>;
  /** Single use, atomically: returns the code and deletes it; NW_TOKEN if unknown, used or expired. */
  consumeUiLoginCode(codeHash: string, now: string): Promise<UiLoginCode>;
  addUiSession(s: UiSessionRecord, events?: Omit<ControllerEvent, 'id'>[]): Promise<void>;
  /** null when unknown or expired. */
  getUiSession(idHash: string, now: string): Promise<UiSessionRecord | null>;
  /** Ends one dashboard session (sign-out); true when it existed. */
  endUiSession(idHash: string): Promise<boolean>;
  /** Ends every dashboard session, or those of the given actors (nodewright ui --revoke [--operator]); returns how many. */
  revokeUiSessions(events?: (revoked: number) => Omit<ControllerEvent, 'id'>[], actors?: string[]): Promise<number>;
  // artifacts
  putArtifact(a: ArtifactRecord): Promise<void>;
  getArtifact(kind: ArtifactRecord['kind'], version: string): Promise<ArtifactRecord | null>;
  listArtifacts(): Promise<ArtifactRecord[]>;
  // desired state per node: generations are monotonic per node
  lastDesired(node: string): Promise<DesiredRecord | null>;
  desiredHistory(node: string, limit?: number): Promise<DesiredRecord[]>;
  /** One signed generation of the node, if still kept. */
  desiredAt(node: string, generation: number): Promise<DesiredRecord | null>;
  nextGeneration(node: string): Promise<number>;
  /** The highest generation ever signed for this node name (0: none); survives pruning and removal. */
  signedGeneration(node: string): Promise<number>;
  // rollouts: a transition (next state + the desired records it signs + its events) is ONE transaction
  createRollout(r: RolloutRecord, events: Omit<ControllerEvent, 'id'>[]): Promise<void>;
  getRollout(id: string): Promise<RolloutRecord | null>;
  /** Rollouts not completed or aborted (by an index: never reads finished ones). */
  activeRollouts(): Promise<RolloutRecord[]>;
  /** Summaries, newest first, `limit` at most, after `cursor` (a page's `next`). */
  listRollouts(opts?: { limit?: number; cursor?: string }): Promise<RolloutPage>;
  commitTransition(id: string, expectedVersion: number, next: RolloutState, desired: DesiredRecord[], events: Omit<ControllerEvent, 'id'>[]): Promise<void>;
  // retention
  /** One pruning pass: each kind one bounded transaction. */
  prune(policy: RetentionPolicy, now: string): Promise<PruneReport>;
}
