// Rows to records and back, the same for both adapters (sqlite.ts, postgres.ts): JSON as TEXT,
// booleans as 0/1, numbers that PostgreSQL hands out as strings (BIGINT) through Number().
import { timingSafeEqual } from 'node:crypto';
import { NwError } from '../../host/errors.js';
import type { RolloutState } from '../rollout/engine.js';
import { isFinished, summarize, type RolloutSummary } from '../rollout/summary.js';
import type { ArtifactRecord, ControllerEvent, HypervisorRule, JoinToken, NodeRecord, RolloutRecord, UiLoginCode, UiSessionRecord } from './store.js';

export type Row = Record<string, unknown>;

export const json = (v: unknown): string => JSON.stringify(v);
export const parse = <T>(s: unknown): T => JSON.parse(String(s)) as T;

export const encodeCursor = (createdAt: string, id: string): string => Buffer.from(json([createdAt, id])).toString('base64url');
export function decodeCursor(cursor: string): [string, string] {
  try {
    const v = parse<unknown>(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // reported below
  }
  throw new NwError('NW_USAGE', `the rollout list cursor '${cursor.slice(0, 64)}' is not one this controller gave out; start again without it`);
}

export const summaryRow = (id: string, createdAt: string, s: RolloutState) => [id, createdAt, s.updatedAt, isFinished(s) ? 0 : 1, json(summarize(s))];

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const toToken = (r: Row): JoinToken => ({
  id: String(r.id),
  secretHash: String(r.secret_hash),
  group: String(r.node_group),
  labels: parse(r.labels),
  expiresAt: String(r.expires_at),
  createdAt: String(r.created_at),
  usedAt: r.used_at === null ? null : String(r.used_at),
  usedBy: r.used_by === null ? null : String(r.used_by),
});

export const NODE_COLUMNS = `name, node_group, labels, url, cert_sha256, cert_not_after, facts, hypervisor, hypervisor_rule, enrolled_at, health, reason,
  health_since, last_seen_at, generation, converged, ready`;
export const nodeParams = (n: NodeRecord) => ({
  ...n,
  certNotAfter: n.certNotAfter ?? null,
  hypervisor: n.hypervisor ?? null,
  hypervisorRule: n.hypervisor ? (n.hypervisorRule ?? null) : null,
  labels: json(n.labels),
  facts: json(n.facts),
  converged: n.converged ? 1 : 0,
  ready: n.ready ? 1 : 0,
});

export const toNode = (r: Row): NodeRecord => ({
  name: String(r.name),
  group: String(r.node_group),
  labels: parse(r.labels),
  url: String(r.url),
  certSha256: String(r.cert_sha256),
  certNotAfter: r.cert_not_after === null || r.cert_not_after === undefined ? null : String(r.cert_not_after),
  facts: parse(r.facts),
  hypervisor: r.hypervisor === null || r.hypervisor === undefined ? null : String(r.hypervisor),
  hypervisorRule: r.hypervisor_rule === null || r.hypervisor_rule === undefined ? null : (String(r.hypervisor_rule) as HypervisorRule),
  enrolledAt: String(r.enrolled_at),
  health: String(r.health) as NodeRecord['health'],
  reason: r.reason === null ? null : String(r.reason),
  healthSince: String(r.health_since),
  lastSeenAt: r.last_seen_at === null ? null : String(r.last_seen_at),
  generation: r.generation === null ? null : Number(r.generation),
  converged: r.converged === 1,
  ready: r.ready === 1,
});

export const toArtifact = (r: Row): ArtifactRecord => ({
  kind: String(r.kind) as ArtifactRecord['kind'],
  version: String(r.version),
  sha256: String(r.sha256),
  size: Number(r.size),
  signature: String(r.signature),
  addedAt: String(r.added_at),
});

export const toRollout = (r: Row): RolloutRecord => ({
  id: String(r.id),
  state: parse<RolloutState>(r.state),
  createdAt: String(r.created_at),
  updatedAt: String(r.updated_at),
  ...(r.detail === 0 ? { pruned: true, summary: parse<RolloutSummary>(r.summary) } : {}),
});

export const toEvent = (r: Row): ControllerEvent => ({
  id: Number(r.id),
  at: String(r.at),
  actor: String(r.actor),
  kind: String(r.kind),
  subject: String(r.subject),
  message: String(r.message),
  ...(r.data === null ? {} : { data: parse(r.data) }),
});

export const toUiLoginCode = (r: Row): UiLoginCode => ({
  codeHash: String(r.code_hash),
  actor: String(r.actor),
  readOnly: Number(r.read_only) === 1,
  createdAt: String(r.created_at),
  expiresAt: String(r.expires_at),
});

export const toUiSession = (r: Row): UiSessionRecord => ({
  idHash: String(r.id_hash),
  actor: String(r.actor),
  readOnly: Number(r.read_only) === 1,
  csrf: String(r.csrf),
  createdAt: String(r.created_at),
  expiresAt: String(r.expires_at),
});

/** A code or session is valid strictly before its expiry. */
export const isLive = (expiresAt: string, now: string): boolean => Date.parse(expiresAt) > Date.parse(now);

export const UI_CODE_EXPIRED = 'the sign-in link was already used or has expired (links are valid 60 s, once); run `nodewright ui` again for a new one';
