// R4's verdict, pure: what the simulated agents accepted, the rollouts' final states and the audit
// log, checked against "every node accepts each target generation exactly once, no rollout is lost
// or stuck, every transition is in the audit log".
//   double_pushes   a node that accepted two different generations for one rollout's content, or
//                   was sent one generation with two contents (NW_GENERATION_CONFLICT at the agent),
//                   or one generation accepted as new twice
//   lost            a rollout the API confirmed that the store no longer has, or a node a completed
//                   rollout calls healthy that never accepted the generation the rollout names for it
//   stuck           a rollout (confirmed, or found after a create in doubt) not completed at the end
//   missing_events  per rollout: rollout.created and its final state; per node: every phase on the
//                   way to where it ended (pushing → gating → healthy), each with the rollout's id
export interface NodeAcceptance {
  generation: number;
  marker: string;
  fresh: number;
  same: number;
}

export interface AgentRecord {
  name: string;
  accepted: NodeAcceptance[];
  /** Refusal codes the agent answered (stale, conflict, …). */
  refusals: { code: string; generation: number | null }[];
}

export interface RolloutRecord {
  id: string;
  /** The content marker the campaign gave the rollout (the kubelet image tag). */
  marker: string;
  /** The create answered 2xx (false: found in the store after a create in doubt). */
  confirmed: boolean;
  /** The final state from the store, null when the store does not have it. */
  final: { state: string; nodes: { name: string; phase: string; targetGeneration: number | null }[] } | null;
}

export interface AuditEvent {
  kind: string;
  subject: string;
  data?: { rollout?: unknown; generation?: unknown };
}

export interface R4Counts {
  double_pushes: number;
  lost: number;
  stuck: number;
  missing_events: number;
  /** Bundles accepted as new / answered as the same again (idempotent), over every node. */
  fresh: number;
  idempotent: number;
  details: string[];
}

const PATH_TO: Record<string, string[]> = {
  healthy: ['pushing', 'gating', 'healthy'],
  failed: ['failed'],
  rolled_back: ['rolling_back', 'rolled_back'],
  skipped: ['skipped'],
};

export function r4Counts(agents: AgentRecord[], rollouts: RolloutRecord[], events: AuditEvent[]): R4Counts {
  const c: R4Counts = { double_pushes: 0, lost: 0, stuck: 0, missing_events: 0, fresh: 0, idempotent: 0, details: [] };
  const note = (s: string) => c.details.length < 20 && c.details.push(s);
  for (const a of agents) {
    const byMarker = new Map<string, number[]>();
    for (const x of a.accepted) {
      c.fresh += x.fresh;
      c.idempotent += x.same;
      if (x.fresh > 1) (c.double_pushes++, note(`${a.name}: generation ${x.generation} accepted as new ${x.fresh} times`));
      if (x.fresh > 0) byMarker.set(x.marker, [...(byMarker.get(x.marker) ?? []), x.generation]);
    }
    for (const [marker, gens] of byMarker) {
      if (gens.length > 1) (c.double_pushes += gens.length - 1, note(`${a.name}: ${marker} accepted as generations ${gens.join(', ')}`));
    }
    for (const r of a.refusals) if (r.code === 'NW_GENERATION_CONFLICT') (c.double_pushes++, note(`${a.name}: generation ${r.generation} sent with other content`));
  }
  const agentOf = new Map(agents.map((a) => [a.name, a]));
  const seen = new Map<string, AuditEvent[]>();
  for (const e of events) {
    const id = typeof e.data?.rollout === 'string' ? e.data.rollout : null;
    if (id) seen.set(id, [...(seen.get(id) ?? []), e]);
  }
  for (const r of rollouts) {
    if (!r.final) {
      if (r.confirmed) (c.lost++, note(`rollout ${r.id} (${r.marker}) was created and is gone`));
      continue;
    }
    if (r.final.state !== 'completed') (c.stuck++, note(`rollout ${r.id} (${r.marker}) ended ${r.final.state}`));
    const ev = seen.get(r.id) ?? [];
    const has = (kind: string, subject: string) => ev.some((e) => e.kind === kind && e.subject === subject);
    for (const kind of ['rollout.created', `rollout.${r.final.state}`]) if (!has(kind, r.id)) (c.missing_events++, note(`rollout ${r.id}: no ${kind} event`));
    for (const n of r.final.nodes) {
      for (const phase of PATH_TO[n.phase] ?? [n.phase]) {
        if (phase !== 'pending' && !has(`rollout.node.${phase}`, n.name)) (c.missing_events++, note(`rollout ${r.id}: no rollout.node.${phase} event for ${n.name}`));
      }
      if (r.final.state === 'completed' && n.phase === 'healthy') {
        const took = agentOf.get(n.name)?.accepted.find((x) => x.generation === n.targetGeneration && x.fresh > 0);
        if (!took || took.marker !== r.marker) (c.lost++, note(`rollout ${r.id}: ${n.name} healthy at generation ${n.targetGeneration}, which it ${took ? `took with ${took.marker}` : 'never accepted'}`));
      }
    }
  }
  return c;
}

export const R4_MIN_KILLS = 300;

export function r4Verdict(c: R4Counts, kills: number, minKills = R4_MIN_KILLS): { pass: boolean; line: string } {
  const pass = c.double_pushes === 0 && c.lost === 0 && c.stuck === 0 && c.missing_events === 0 && kills >= minKills;
  return { pass, line: `R4 double_pushes=${c.double_pushes} lost=${c.lost} stuck=${c.stuck} kills=${kills} missing_events=${c.missing_events} (target 0) ${pass ? 'PASS' : 'MISS'}` };
}
