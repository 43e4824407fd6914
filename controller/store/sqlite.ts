// The embedded store: better-sqlite3 (WAL) at stateDir/controller.db. Opening takes the leader
// epoch (epoch + 1); every write runs in one IMMEDIATE transaction that first checks, with
// `UPDATE meta … WHERE epoch = ?`, that this controller still holds it.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { NwError } from '../../host/errors.js';
import { migrate } from './migrations.js';
import type { RolloutState } from '../rollout/engine.js';
import { isFinished, summarize, type RolloutSummary } from '../rollout/summary.js';
import {
  decodeCursor, encodeCursor, isLive, json, NODE_COLUMNS, nodeParams, parse, sameHash, summaryRow, toArtifact, toEvent, toNode, toRollout, toToken,
  toUiLoginCode, toUiSession, UI_CODE_EXPIRED, type Row,
} from './rows.js';
import { eventQuerySql } from './event-query.js';
import { attachKeyring, detachKeyring } from './keyrings.js';
import { pinnedGenerations, type PruneReport, type RetentionPolicy } from './retention.js';
import type {
  ArtifactRecord, ControllerEvent, DesiredRecord, EventQuery, HypervisorChange, HypervisorMapping, HypervisorRule, JoinToken, NodeObservation, NodeRecord,
  RolloutPage, RolloutRecord, Store, UiLoginCode, UiSessionRecord,
} from './store.js';

export const DB_FILE = 'controller.db';

type NewEvent = Omit<ControllerEvent, 'id'>;


export function openSqliteStore(opts: { stateDir: string }): SqliteStore {
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.stateDir, DB_FILE);
  // the database holds signed bundles and token hashes: owner only, before SQLite opens it
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    fillRolloutSummaries(db);
  } catch (e) {
    if (e instanceof NwError) throw e;
    throw new NwError('NW_STATE', `cannot open the controller database ${file}: ${(e as Error).message}; check the state directory and its permissions`);
  }
  const epoch = db.transaction(() => {
    db.prepare(`UPDATE meta SET epoch = epoch + 1 WHERE id = 1`).run();
    // A generation an agent reported that this controller never signed (stored before the poller
    // refused such reports) is forgotten: nothing may count from it.
    db.prepare(`UPDATE nodes SET generation = NULL WHERE generation > COALESCE((SELECT m.generation FROM generation_marks m WHERE m.node = nodes.name), 0)`).run();
    return (db.prepare(`SELECT epoch FROM meta WHERE id = 1`).get() as { epoch: number }).epoch;
  }).immediate();
  return new SqliteStore(db, epoch);
}

const UPSERT_SUMMARY = `INSERT INTO rollout_summaries (id, created_at, updated_at, active, detail, summary) VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, active = excluded.active, summary = excluded.summary`;


/** Rollouts written before schema 3 get their summary row once. */
function fillRolloutSummaries(db: Database.Database): void {
  const rows = db.prepare(`SELECT id, created_at, state FROM rollouts WHERE id NOT IN (SELECT id FROM rollout_summaries)`).all() as Row[];
  if (rows.length === 0) return;
  const set = db.prepare(UPSERT_SUMMARY);
  db.transaction(() => {
    for (const r of rows) set.run(...summaryRow(String(r.id), String(r.created_at), parse<RolloutState>(r.state)));
  }).immediate();
}


export class SqliteStore implements Store {
  constructor(private readonly db: Database.Database, readonly epoch: number) {}

  async close(): Promise<void> {
    this.db.close();
  }

  /** One fenced transaction: nothing is written unless this controller still holds the epoch. */
  private write<T>(fn: () => T): T {
    return this.db.transaction(() => {
      const fenced = this.db.prepare(`UPDATE meta SET epoch = epoch WHERE id = 1 AND epoch = ?`).run(this.epoch);
      if (fenced.changes !== 1) {
        throw new NwError('NW_STATE', `another controller took over (this one holds epoch ${this.epoch}); stop this controller`);
      }
      return fn();
    }).immediate();
  }

  // join tokens

  async addJoinToken(t: JoinToken): Promise<void> {
    this.write(() => {
      const r = this.db
        .prepare(`INSERT INTO join_tokens (id, secret_hash, node_group, labels, expires_at, created_at, used_at, used_by)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
        .run(t.id, t.secretHash, t.group, json(t.labels), t.expiresAt, t.createdAt, t.usedAt, t.usedBy);
      if (r.changes !== 1) throw new NwError('NW_EXISTS', `join token ${t.id} already exists; create a new one`);
    });
  }

  async checkJoinToken(id: string, secretHash: string, now: string): Promise<JoinToken> {
    return this.validToken(id, secretHash, now);
  }

  private validToken(id: string, secretHash: string, now: string): JoinToken {
    const row = this.db.prepare(`SELECT * FROM join_tokens WHERE id = ?`).get(id) as Row | undefined;
    const t = row ? toToken(row) : null;
    if (!t || !sameHash(t.secretHash, secretHash)) {
      throw new NwError('NW_TOKEN', 'the join token is unknown; create one with `nodewright nodes join-token --group G`');
    }
    if (t.usedAt !== null) throw new NwError('NW_TOKEN', `the join token was already used (by ${t.usedBy}); create a new one`);
    if (Date.parse(t.expiresAt) <= Date.parse(now)) {
      throw new NwError('NW_TOKEN', `the join token expired at ${t.expiresAt}; create a new one`);
    }
    return t;
  }

  async consumeJoinToken(id: string, secretHash: string, node: string, now: string): Promise<JoinToken> {
    return this.write(() => this.spendJoinToken(id, secretHash, node, now));
  }

  private spendJoinToken(id: string, secretHash: string, node: string, now: string): JoinToken {
    const t = this.validToken(id, secretHash, now);
    this.db.prepare(`UPDATE join_tokens SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL`).run(now, node, id);
    return { ...t, usedAt: now, usedBy: node };
  }

  // inventory

  async putNode(n: NodeRecord): Promise<void> {
    this.write(() => {
      this.db
        .prepare(`INSERT INTO nodes (${NODE_COLUMNS}) VALUES (${NODE_VALUES})
                  ON CONFLICT (name) DO UPDATE SET node_group = excluded.node_group, labels = excluded.labels,
                    url = excluded.url, cert_sha256 = excluded.cert_sha256, cert_not_after = excluded.cert_not_after,
                    facts = excluded.facts, hypervisor = excluded.hypervisor, hypervisor_rule = excluded.hypervisor_rule,
                    enrolled_at = excluded.enrolled_at, health = excluded.health, reason = excluded.reason,
                    health_since = excluded.health_since, last_seen_at = excluded.last_seen_at,
                    generation = excluded.generation, converged = excluded.converged, ready = excluded.ready`)
        .run(nodeParams(n));
    });
  }

  async insertNode(n: NodeRecord, token: { id: string; secretHash: string; at: string }, events: NewEvent[]): Promise<void> {
    this.write(() => {
      const r = this.db.prepare(`INSERT INTO nodes (${NODE_COLUMNS}) VALUES (${NODE_VALUES}) ON CONFLICT (name) DO NOTHING`).run(nodeParams(n));
      if (r.changes !== 1) {
        throw new NwError('NW_EXISTS', `node ${n.name} is already enrolled: \`nodewright nodes remove ${n.name}\` first, or join with another --name`);
      }
      this.spendJoinToken(token.id, token.secretHash, n.name, token.at);
      for (const e of events) this.insertEvent(e);
    });
  }

  async renewNodeCert(name: string, fromSha256: string, to: { certSha256: string; certNotAfter: string }, event: NewEvent): Promise<void> {
    this.write(() => {
      const r = this.db
        .prepare(`UPDATE nodes SET cert_sha256 = ?, cert_not_after = ? WHERE name = ? AND cert_sha256 = ?`)
        .run(to.certSha256, to.certNotAfter, name, fromSha256);
      if (r.changes !== 1) {
        throw new NwError('NW_AUTH', `the certificate of ${name} is no longer the enrolled one (the node was removed or already renewed): join the node again`);
      }
      this.insertEvent(event);
    });
  }

  async getNode(name: string): Promise<NodeRecord | null> {
    const row = this.db.prepare(`SELECT * FROM nodes WHERE name = ?`).get(name) as Row | undefined;
    return row ? toNode(row) : null;
  }

  async listNodes(filter: { group?: string; labels?: Record<string, string>; names?: string[] } = {}): Promise<NodeRecord[]> {
    const rows = (
      filter.group === undefined
        ? this.db.prepare(`SELECT * FROM nodes ORDER BY name`).all()
        : this.db.prepare(`SELECT * FROM nodes WHERE node_group = ? ORDER BY name`).all(filter.group)
    ) as Row[];
    const names = filter.names ? new Set(filter.names) : null;
    const labels = Object.entries(filter.labels ?? {});
    return rows
      .map(toNode)
      .filter((n) => (names ? names.has(n.name) : true))
      .filter((n) => labels.every(([k, v]) => n.labels[k] === v));
  }

  async removeNode(name: string): Promise<boolean> {
    return this.write(() => {
      const removed = this.db.prepare(`DELETE FROM nodes WHERE name = ?`).run(name).changes === 1;
      // its signed history goes too; generation_marks keeps the number a re-enrolled worker still holds
      this.db.prepare(`DELETE FROM desired WHERE node = ?`).run(name);
      this.deleteUnusedKeyrings();
      return removed;
    });
  }

  async setLabels(name: string, labels: Record<string, string>): Promise<void> {
    this.write(() => {
      const r = this.db.prepare(`UPDATE nodes SET labels = ? WHERE name = ?`).run(json(labels), name);
      if (r.changes !== 1) throw new NwError('NW_NOT_FOUND', `no enrolled node is named ${name}; see \`nodewright nodes ls\``);
    });
  }

  /**
   * Writes only a change of health, reason, generation, converged or ready. healthSince moves
   * when the health does; lastSeenAt is the time of the last written observation that reached the
   * agent (a poller that must show "seen 3 s ago" keeps that in memory). A node removed meanwhile
   * is not an error: nothing is written.
   */
  async observeNode(name: string, o: NodeObservation): Promise<boolean> {
    return this.write(() => {
      const row = this.db.prepare(`SELECT * FROM nodes WHERE name = ?`).get(name) as Row | undefined;
      if (!row) return false;
      const n = toNode(row);
      const same = n.health === o.health && n.reason === o.reason && n.generation === o.generation
        && n.converged === o.converged && n.ready === o.ready;
      if (same) return false;
      const healthSince = n.health === o.health ? n.healthSince : o.at;
      const lastSeenAt = o.health === 'unreachable' ? n.lastSeenAt : o.at;
      this.db
        .prepare(`UPDATE nodes SET health = ?, reason = ?, health_since = ?, last_seen_at = ?, generation = ?,
                    converged = ?, ready = ? WHERE name = ?`)
        .run(o.health, o.reason, healthSince, lastSeenAt, o.generation, o.converged ? 1 : 0, o.ready ? 1 : 0, name);
      return true;
    });
  }

  async setNodeHypervisors(changes: HypervisorChange[], eventOf: (c: HypervisorChange, from: HypervisorMapping | null) => NewEvent | null): Promise<string[]> {
    if (changes.length === 0) return [];
    return this.write(() => {
      const get = this.db.prepare(`SELECT hypervisor, hypervisor_rule FROM nodes WHERE name = ?`);
      const set = this.db.prepare(`UPDATE nodes SET hypervisor = ?, hypervisor_rule = ? WHERE name = ?`);
      const written: string[] = [];
      for (const c of changes) {
        const row = get.get(c.name) as Row | undefined;
        if (!row) continue; // removed meanwhile
        const from = row.hypervisor === null ? null : { hypervisor: String(row.hypervisor), rule: String(row.hypervisor_rule) as HypervisorRule };
        if (from?.hypervisor === c.to?.hypervisor && from?.rule === c.to?.rule) continue;
        set.run(c.to?.hypervisor ?? null, c.to?.rule ?? null, c.name);
        const e = eventOf(c, from);
        if (e) this.insertEvent(e);
        written.push(c.name);
      }
      return written;
    });
  }

  // audit log

  async appendEvent(e: NewEvent): Promise<number> {
    return this.write(() => this.insertEvent(e));
  }

  private insertEvent(e: NewEvent): number {
    const r = this.db
      .prepare(`INSERT INTO events (at, actor, kind, subject, message, data) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(e.at, e.actor, e.kind, e.subject, e.message, e.data === undefined ? null : json(e.data));
    return Number(r.lastInsertRowid);
  }

  async listEvents(opts: { afterId?: number; limit?: number } = {}): Promise<ControllerEvent[]> {
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?`)
      .all(opts.afterId ?? 0, opts.limit ?? 1000) as Row[];
    return rows.map(toEvent);
  }

  async queryEvents(q: EventQuery): Promise<ControllerEvent[]> {
    const { sql, params } = eventQuerySql(q, () => '?');
    return (this.db.prepare(sql).all(...params) as Row[]).map(toEvent);
  }

  // dashboard sign-in (one controller per SQLite file: fenced like every other write)

  async addUiLoginCode(c: UiLoginCode, events: NewEvent[] = []): Promise<void> {
    this.write(() => {
      this.db
        .prepare(`INSERT INTO ui_login_codes (code_hash, actor, read_only, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
        .run(c.codeHash, c.actor, c.readOnly ? 1 : 0, c.createdAt, c.expiresAt);
      for (const e of events) this.insertEvent(e);
    });
  }

  async consumeUiLoginCode(codeHash: string, now: string): Promise<UiLoginCode> {
    const row = this.write(() => this.db.prepare(`DELETE FROM ui_login_codes WHERE code_hash = ? RETURNING *`).get(codeHash) as Row | undefined);
    if (!row || !isLive(String(row.expires_at), now)) throw new NwError('NW_TOKEN', UI_CODE_EXPIRED);
    return toUiLoginCode(row);
  }

  async addUiSession(x: UiSessionRecord, events: NewEvent[] = []): Promise<void> {
    this.write(() => {
      this.db
        .prepare(`INSERT INTO ui_sessions (id_hash, actor, read_only, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(x.idHash, x.actor, x.readOnly ? 1 : 0, x.csrf, x.createdAt, x.expiresAt);
      for (const e of events) this.insertEvent(e);
    });
  }

  async endUiSession(idHash: string): Promise<boolean> {
    return this.write(() => this.db.prepare(`DELETE FROM ui_sessions WHERE id_hash = ?`).run(idHash).changes === 1);
  }

  async getUiSession(idHash: string, now: string): Promise<UiSessionRecord | null> {
    const row = this.db.prepare(`SELECT * FROM ui_sessions WHERE id_hash = ?`).get(idHash) as Row | undefined;
    return row && isLive(String(row.expires_at), now) ? toUiSession(row) : null;
  }

  async revokeUiSessions(events: (revoked: number) => NewEvent[] = () => [], actors?: string[]): Promise<number> {
    return this.write(() => {
      const n = actors
        ? this.db.prepare(`DELETE FROM ui_sessions WHERE actor IN (SELECT value FROM json_each(?))`).run(JSON.stringify(actors)).changes
        : this.db.prepare(`DELETE FROM ui_sessions`).run().changes;
      for (const e of events(n)) this.insertEvent(e);
      return n;
    });
  }

  // artifacts

  async putArtifact(a: ArtifactRecord): Promise<void> {
    this.write(() => {
      const old = this.artifact(a.kind, a.version);
      if (old && old.sha256 !== a.sha256) {
        throw new NwError('NW_EXISTS', `artifact ${a.kind} ${a.version} already exists with other content (sha256 ${old.sha256}); add it under a new version`);
      }
      this.db
        .prepare(`INSERT INTO artifacts (kind, version, sha256, size, signature, added_at) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT (kind, version) DO UPDATE SET signature = excluded.signature`)
        .run(a.kind, a.version, a.sha256, a.size, a.signature, a.addedAt);
    });
  }

  async getArtifact(kind: ArtifactRecord['kind'], version: string): Promise<ArtifactRecord | null> {
    return this.artifact(kind, version);
  }

  private artifact(kind: ArtifactRecord['kind'], version: string): ArtifactRecord | null {
    const row = this.db.prepare(`SELECT * FROM artifacts WHERE kind = ? AND version = ?`).get(kind, version) as Row | undefined;
    return row ? toArtifact(row) : null;
  }

  async listArtifacts(): Promise<ArtifactRecord[]> {
    return (this.db.prepare(`SELECT * FROM artifacts ORDER BY kind, added_at, version`).all() as Row[]).map(toArtifact);
  }

  // desired state

  async lastDesired(node: string): Promise<DesiredRecord | null> {
    return (await this.desiredHistory(node, 1))[0] ?? null;
  }

  async desiredHistory(node: string, limit = 100): Promise<DesiredRecord[]> {
    return this.toDesired(node, this.db.prepare(`SELECT * FROM desired WHERE node = ? ORDER BY generation DESC LIMIT ?`).all(node, limit) as Row[]);
  }

  async desiredAt(node: string, generation: number): Promise<DesiredRecord | null> {
    return this.toDesired(node, this.db.prepare(`SELECT * FROM desired WHERE node = ? AND generation = ?`).all(node, generation) as Row[])[0] ?? null;
  }

  private toDesired(node: string, rows: Row[]): DesiredRecord[] {
    const keyring = (sha256: string): string => {
      const k = this.db.prepare(`SELECT keyring FROM keyrings WHERE sha256 = ?`).get(sha256) as { keyring: string } | undefined;
      if (!k) throw new NwError('NW_STATE', `the keyring ${sha256.slice(0, 12)}… of node ${node}'s desired state is missing from the store; restore the database from a backup`);
      return k.keyring;
    };
    return rows.map((r) => ({
      node: String(r.node),
      generation: Number(r.generation),
      desired: attachKeyring(parse(r.desired), keyring),
      bundle: attachKeyring(parse(r.bundle), keyring),
      at: String(r.at),
    }));
  }

  async signedGeneration(node: string): Promise<number> {
    return this.signed(node);
  }

  private signed(node: string): number {
    return (this.db.prepare(`SELECT generation AS g FROM generation_marks WHERE node = ?`).get(node) as { g: number } | undefined)?.g ?? 0;
  }

  /**
   * Above every generation ever signed for the node name. Never above what an agent reports: a
   * reported generation above the signed ones is not trusted (the poller marks the node degraded)
   * and an agent reporting 2^53−1 must not stall the next signing.
   */
  async nextGeneration(node: string): Promise<number> {
    return this.signed(node) + 1;
  }

  private insertDesired(d: DesiredRecord): void {
    const last = this.signed(d.node);
    if (!Number.isInteger(d.generation) || d.generation <= last) {
      throw new NwError('NW_STALE', `generation ${d.generation} for node ${d.node} is not above ${last}; take the next one from nextGeneration()`);
    }
    const stored = detachKeyring(d.desired, d.bundle);
    if (stored.keyring) {
      this.db.prepare(`INSERT INTO keyrings (sha256, keyring) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING`).run(stored.keyring.sha256, stored.keyring.value);
    }
    this.db
      .prepare(`INSERT INTO desired (node, generation, desired, bundle, at, keyring_sha256) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(d.node, d.generation, json(stored.desired), json(stored.bundle), d.at, stored.keyring?.sha256 ?? null);
    this.db
      .prepare(`INSERT INTO generation_marks (node, generation) VALUES (?, ?)
                ON CONFLICT (node) DO UPDATE SET generation = excluded.generation WHERE excluded.generation > generation_marks.generation`)
      .run(d.node, d.generation);
  }

  private deleteUnusedKeyrings(): number {
    return this.db
      .prepare(`DELETE FROM keyrings WHERE NOT EXISTS (SELECT 1 FROM desired WHERE desired.keyring_sha256 = keyrings.sha256)`)
      .run().changes;
  }

  // rollouts

  async createRollout(r: RolloutRecord, events: NewEvent[]): Promise<void> {
    this.write(() => {
      const res = this.db
        .prepare(`INSERT INTO rollouts (id, version, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
        .run(r.id, r.state.version, json(r.state), r.createdAt, r.updatedAt);
      if (res.changes !== 1) throw new NwError('NW_EXISTS', `rollout ${r.id} already exists`);
      this.db.prepare(UPSERT_SUMMARY).run(...summaryRow(r.id, r.createdAt, r.state));
      for (const e of events) this.insertEvent(e);
    });
  }

  async getRollout(id: string): Promise<RolloutRecord | null> {
    return this.rollout(id);
  }

  private rollout(id: string): RolloutRecord | null {
    const row = this.db.prepare(`SELECT r.*, s.detail, s.summary FROM rollouts r LEFT JOIN rollout_summaries s ON s.id = r.id WHERE r.id = ?`).get(id) as Row | undefined;
    return row ? toRollout(row) : null;
  }

  async activeRollouts(): Promise<RolloutRecord[]> {
    return this.active();
  }

  private active(): RolloutRecord[] {
    return (
      this.db.prepare(`SELECT r.*, s.detail, s.summary FROM rollout_summaries s JOIN rollouts r ON r.id = s.id WHERE s.active = 1 ORDER BY s.created_at, s.id`).all() as Row[]
    ).map(toRollout);
  }

  async listRollouts(opts: { limit?: number; cursor?: string } = {}): Promise<RolloutPage> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), 1000);
    const rows = (
      opts.cursor === undefined
        ? this.db.prepare(`SELECT id, created_at, summary FROM rollout_summaries ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit + 1)
        : (() => {
            const [at, id] = decodeCursor(opts.cursor);
            return this.db
              .prepare(`SELECT id, created_at, summary FROM rollout_summaries WHERE created_at < ? OR (created_at = ? AND id < ?)
                        ORDER BY created_at DESC, id DESC LIMIT ?`)
              .all(at, at, id, limit + 1);
          })()
    ) as Row[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rollouts: page.map((r) => parse<RolloutSummary>(r.summary)),
      next: rows.length > limit && last ? encodeCursor(String(last.created_at), String(last.id)) : null,
    };
  }

  async commitTransition(id: string, expectedVersion: number, next: RolloutState, desired: DesiredRecord[], events: NewEvent[]): Promise<void> {
    this.write(() => {
      const res = this.db
        .prepare(`UPDATE rollouts SET version = ?, state = ?, updated_at = ? WHERE id = ? AND version = ?`)
        .run(next.version, json(next), next.updatedAt, id, expectedVersion);
      if (res.changes !== 1) {
        const found = this.rollout(id);
        throw new NwError(
          found ? 'NW_ROLLOUT' : 'NW_NOT_FOUND',
          found
            ? `rollout ${id} changed meanwhile (version ${found.state.version}, expected ${expectedVersion}); read it again and retry`
            : `no rollout ${id}; see \`nodewright rollout ls\``,
        );
      }
      this.db
        .prepare(`UPDATE rollout_summaries SET updated_at = ?, active = ?, summary = ? WHERE id = ?`)
        .run(next.updatedAt, isFinished(next) ? 0 : 1, json(summarize(next)), id);
      for (const d of desired) this.insertDesired(d);
      for (const e of events) this.insertEvent(e);
    });
  }

  // retention

  async prune(p: RetentionPolicy, now: string): Promise<PruneReport> {
    const t = Date.parse(now);
    const before = (ms: number) => new Date(t - ms).toISOString();
    const events = this.write(() => {
      let n = this.db
        .prepare(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?)`)
        .run(before(p.eventsMaxAgeMs), p.batch).changes;
      const cut = this.db.prepare(`SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?`).get(p.eventsMaxCount) as { id: number } | undefined;
      if (cut && n < p.batch) {
        n += this.db
          .prepare(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= ? ORDER BY id LIMIT ?)`)
          .run(cut.id, p.batch - n).changes;
      }
      return n;
    });
    const { desired, keyrings } = this.write(() => {
      const pins = pinnedGenerations(this.active().map((r) => r.state));
      const old = this.db
        .prepare(`SELECT node, generation FROM (
                    SELECT node, generation, ROW_NUMBER() OVER (PARTITION BY node ORDER BY generation DESC) AS newer FROM desired) ranked
                  WHERE newer > ?`)
        .all(p.generationsPerNode) as { node: string; generation: number }[];
      const del = this.db.prepare(`DELETE FROM desired WHERE node = ? AND generation = ?`);
      let n = 0;
      for (const d of old) {
        if (n >= p.batch) break;
        if (pins.get(d.node)?.has(d.generation)) continue;
        n += del.run(d.node, d.generation).changes;
      }
      return { desired: n, keyrings: this.deleteUnusedKeyrings() };
    });
    // a rollout's state can be megabytes (20,000 nodes): few per transaction
    const rolloutBatch = Math.max(1, Math.min(p.batch, 10));
    const rolloutDetails = this.write(() => {
      const rows = this.db
        .prepare(`SELECT id FROM (
                    SELECT id, updated_at, detail, ROW_NUMBER() OVER (ORDER BY created_at DESC, id DESC) AS newer FROM rollout_summaries WHERE active = 0) f
                  WHERE detail = 1 AND (newer > ? OR updated_at < ?) LIMIT ?`)
        .all(p.rolloutDetailCount, before(p.rolloutDetailMaxAgeMs), rolloutBatch) as { id: string }[];
      const set = this.db.prepare(`UPDATE rollouts SET state = ? WHERE id = ?`);
      const flag = this.db.prepare(`UPDATE rollout_summaries SET detail = 0 WHERE id = ?`);
      for (const { id } of rows) {
        const s = this.rollout(id)!.state;
        set.run(json({ ...s, nodes: [], desired: null }), id);
        flag.run(id);
      }
      return rows.length;
    });
    const rollouts = this.write(() => {
      const old = this.db
        .prepare(`SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at DESC, id DESC) AS newer FROM rollout_summaries WHERE active = 0) f
                  WHERE newer > ? LIMIT ?`)
        .all(p.rolloutSummaryCount, p.batch) as { id: string }[];
      const del = this.db.prepare(`DELETE FROM rollouts WHERE id = ?`);
      const delSummary = this.db.prepare(`DELETE FROM rollout_summaries WHERE id = ?`);
      for (const { id } of old) {
        del.run(id);
        delSummary.run(id);
      }
      return old.length;
    });
    const joinTokens = this.write(() =>
      this.db
        .prepare(`DELETE FROM join_tokens WHERE id IN (SELECT id FROM join_tokens WHERE expires_at <= ? LIMIT ?)`)
        .run(new Date(t).toISOString(), p.batch).changes,
    );
    const expired = (table: string, key: string) =>
      this.write(() =>
        this.db
          .prepare(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at <= ? LIMIT ?)`)
          .run(new Date(t).toISOString(), p.batch).changes,
      );
    const uiLoginCodes = expired('ui_login_codes', 'code_hash');
    const uiSessions = expired('ui_sessions', 'id_hash');
    const more = [events, desired, rollouts, joinTokens, uiLoginCodes, uiSessions].some((n) => n >= p.batch) || rolloutDetails >= rolloutBatch;
    return { events, desired, keyrings, rolloutDetails, rollouts, joinTokens, uiLoginCodes, uiSessions, more };
  }
}

const NODE_VALUES = `@name, @group, @labels, @url, @certSha256, @certNotAfter, @facts, @hypervisor, @hypervisorRule, @enrolledAt, @health, @reason,
  @healthSince, @lastSeenAt, @generation, @converged, @ready`;
