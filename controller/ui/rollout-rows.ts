// A rollout's nodes at fleet scale, PURE: how many are in each phase, the few rows the live
// region shows (every node of a small rollout; of a large one only those that need an operator now:
// failed, rolling back, in flight, held by a busy failure domain — capped, the rest counted), and
// the full list a page at a time, filtered by phase. The thousands of done or pending nodes of a
// large rollout never reach the live region (argo-rollouts #4733, nomad #13927).
import type { NodePhase, RolloutNode } from '../rollout/engine.js';

export const PHASES: readonly NodePhase[] = ['pending', 'pushing', 'gating', 'healthy', 'failed', 'rolling_back', 'rolled_back', 'skipped'];
export type PhaseCounts = Record<NodePhase, number>;

/** Rows in the live region: at most this many; a rollout of at most this many nodes shows them all. */
export const LIVE_ROWS = 100;
/** Lines of "waits for" in the live region of a large rollout (a small one shows them all). */
export const LIVE_WAITS = 20;
/** Rows of one page of the node list. */
export const NODE_PAGE = 200;

export interface NodeRow { name: string; wave: number; phase: NodePhase; domain: string; generation: number | null; reason: string | null; held: boolean }

type Node = Pick<RolloutNode, 'name' | 'wave' | 'phase' | 'failureDomain' | 'targetGeneration' | 'rollbackGeneration' | 'reason' | 'hold'>;

export const isPhase = (v: string): v is NodePhase => (PHASES as string[]).includes(v);

export function rowOf(n: Node): NodeRow {
  const back = n.phase === 'rolling_back' || n.phase === 'rolled_back';
  return { name: n.name, wave: n.wave, phase: n.phase, domain: n.failureDomain, generation: back ? n.rollbackGeneration : n.targetGeneration, reason: n.reason, held: n.phase === 'pending' && !!n.hold };
}

export function phaseCounts(nodes: readonly Pick<RolloutNode, 'phase'>[]): PhaseCounts {
  const c = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhaseCounts;
  for (const n of nodes) c[n.phase]++;
  return c;
}

/** How urgent a node is for the live region (lower first), or null when it does not belong there. */
function urgency(n: Node): number | null {
  switch (n.phase) {
    case 'failed': return 0;
    case 'rolling_back': return 1;
    case 'pushing':
    case 'gating': return 2;
    case 'pending': return n.hold ? 3 : null;
    default: return null;
  }
}

/**
 * The live region's rows: every node while the rollout has at most `cap`; beyond, the failed,
 * rolling back, in-flight and held ones (in that order, each in rollout order), at most `cap`,
 * and how many more of those there are.
 */
export function liveRows(nodes: readonly Node[], cap = LIVE_ROWS): { rows: NodeRow[]; more: number; all: boolean } {
  if (nodes.length <= cap) return { rows: nodes.map(rowOf), more: 0, all: true };
  const buckets: Node[][] = [[], [], [], []];
  for (const n of nodes) {
    const u = urgency(n);
    if (u !== null) buckets[u].push(n);
  }
  const picked = buckets.flat();
  return { rows: picked.slice(0, cap).map(rowOf), more: Math.max(0, picked.length - cap), all: false };
}

export interface NodePage {
  rows: NodeRow[];
  phase: NodePhase | null;
  /** 1-based, within 1..pages */
  page: number;
  pages: number;
  /** Nodes matching the filter. */
  total: number;
  /** Index (1-based) of the first row in the filtered list (0 when empty). */
  first: number;
}

/** One page of the node list in rollout order, filtered by phase; a page past the end shows the last. */
export function nodePage(nodes: readonly Node[], o: { phase: NodePhase | null; page: number }, size = NODE_PAGE): NodePage {
  const matching = o.phase ? nodes.filter((n) => n.phase === o.phase) : nodes;
  const pages = Math.max(1, Math.ceil(matching.length / size));
  const page = Math.min(Math.max(1, Math.floor(o.page)), pages);
  const start = (page - 1) * size;
  const rows = matching.slice(start, start + size).map(rowOf);
  return { rows, phase: o.phase, page, pages, total: matching.length, first: rows.length ? start + 1 : 0 };
}
