// A rollout's desired template bound to one node: the signed fields the agent checks
// (schema, generation, nodeGroup, nodes), and the comparison that keeps a rollback from
// "restoring" an identical spec.
import { canonicalJson } from '../../protocol/canonical.js';

export type DesiredTemplate = Record<string, unknown>;

export function bindDesired(template: DesiredTemplate, node: { name: string; group: string }, generation: number): Record<string, unknown> {
  return { ...template, schema: 1, generation, nodeGroup: node.group, nodes: [node.name] };
}

/** The previous desired state again, under a new generation (a rollback is a new generation). */
export function rebindDesired(previous: unknown, generation: number): Record<string, unknown> {
  return { ...(previous as Record<string, unknown>), generation };
}

/** Same spec = same content apart from generation and expiry. */
export function sameSpec(a: unknown, b: unknown): boolean {
  const spec = (d: unknown): string => {
    const { generation: _g, notAfter: _n, ...rest } = (d ?? {}) as Record<string, unknown>;
    return canonicalJson(rest);
  };
  return spec(a) === spec(b);
}
