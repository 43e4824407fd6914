// Bulk actions of the rollouts page, PURE: which rollouts a row checkbox is offered for, which
// rollouts "Pause all running" (the fleet-wide stop) applies to, and the request's ids read and
// checked. The commands themselves go through the executor one rollout at a time (routes.ts).
import { NwError } from '../../host/errors.js';
import type { RolloutSummary } from '../rollout/summary.js';
import { actionsFor } from './rollout-model.js';

export const BULK_COMMANDS = ['pause', 'resume', 'abort'] as const;
export type BulkCommand = (typeof BULK_COMMANDS)[number];
/** Ids one request may name. */
export const BULK_MAX = 500;

/** A rollout id or node name as the dashboard takes it from a URL or a form. */
export const NAME = /^[A-Za-z0-9._-]{1,253}$/;

export const isBulkCommand = (v: string): v is BulkCommand => (BULK_COMMANDS as readonly string[]).includes(v);

/** The engine accepts `kind` in this phase: the rollout page's own rule (rollout-model.ts actionsFor). */
export const bulkApplies = (kind: BulkCommand, state: RolloutSummary['state']): boolean => actionsFor({ state, rollingBack: false }).includes(kind);

/** A row gets a checkbox when some bulk command applies to it (it is not finished). */
export const selectable = (s: Pick<RolloutSummary, 'state'>): boolean => BULK_COMMANDS.some((k) => bulkApplies(k, s.state));

/** The ids of the summaries `kind` applies to, in their order ("Pause all running"). */
export const bulkTargets = (kind: BulkCommand, summaries: readonly Pick<RolloutSummary, 'id' | 'state'>[]): string[] =>
  summaries.filter((s) => bulkApplies(kind, s.state)).map((s) => s.id);

export type BulkRequest = { all: true } | { all: false; ids: string[] };

/**
 * The form's `ids` (repeated) or `all=1` (pause only): NW_USAGE for none, more than BULK_MAX, a
 * malformed id, or `all` with another command. Duplicates are dropped, the order kept.
 */
export function bulkRequest(kind: BulkCommand, body: Record<string, unknown> | null | undefined): BulkRequest {
  const b = body ?? {};
  if (b.all === '1') {
    if (kind !== 'pause') throw new NwError('NW_USAGE', `all=1 applies to pause only: select the rollouts to ${kind}`);
    return { all: true };
  }
  const raw = b.ids === undefined ? [] : Array.isArray(b.ids) ? b.ids : [b.ids];
  if (raw.length === 0) throw new NwError('NW_USAGE', `no rollout selected: tick the rollouts to ${kind} first`);
  if (raw.length > BULK_MAX) throw new NwError('NW_USAGE', `${raw.length} rollouts selected: at most ${BULK_MAX} at once`);
  const ids: string[] = [];
  for (const id of raw) {
    if (typeof id !== 'string' || !NAME.test(id)) throw new NwError('NW_USAGE', `not a rollout id: ${String(id).slice(0, 64)}`);
    if (!ids.includes(id)) ids.push(id);
  }
  return { all: false, ids };
}

/** A url-encoded form: a key given once is a string, a repeated key (`ids=a&ids=b`) an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) {
    const had = out[k];
    if (had === undefined) out[k] = v;
    else if (Array.isArray(had)) had.push(v);
    else out[k] = [had, v];
  }
  return out;
}

export interface BulkOutcome { id: string; done: boolean; code: string | null; message: string }
