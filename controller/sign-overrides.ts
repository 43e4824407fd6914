// `nodewright bundle sign` overrides: --generation, --not-after, --node-group, --nodes set the
// signed fields on the desired state before it is validated and signed. Pure: `now` is passed in.
import { NwError } from '../host/errors.js';

export interface SignOverrides {
  generation?: string;
  /** RFC 3339 instant (any offset; signed as UTC) or a duration from now: 90m, 24h, 7d, 1h30m. */
  notAfter?: string;
  nodeGroup?: string;
  /** Comma-separated node names. */
  nodes?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:[0-9]+[smhd])+$/;
const INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Date.parse rolls 2026-02-30 over to March: the written fields must name a real date and time. */
function fieldsExist(value: string): boolean {
  const [y, mo, d, h, mi, s] = value.slice(0, 19).split(/[-T:]/).map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s)).toISOString().slice(0, 19) === value.slice(0, 19);
}

/** The signed notAfter for `value`: `YYYY-MM-DDTHH:MM:SSZ` (milliseconds only when given). */
export function resolveNotAfter(value: string, now: Date): string {
  let t: number;
  if (DURATION.test(value)) {
    // Whole seconds: the duration is an operator's rough bound, the signed field stays readable.
    t = Math.floor(now.getTime() / 1000) * 1000 + [...value.matchAll(/([0-9]+)([smhd])/g)].reduce((ms, [, n, u]) => ms + Number(n) * UNIT_MS[u], 0);
  } else if (INSTANT.test(value) && fieldsExist(value)) {
    t = Date.parse(value);
  } else {
    t = NaN;
  }
  if (!Number.isFinite(t)) {
    throw new NwError('NW_USAGE', `--not-after ${value} is neither an RFC 3339 instant (2026-12-31T23:59:59Z) nor a duration (90m, 24h, 7d)`);
  }
  if (t <= now.getTime()) throw new NwError('NW_USAGE', `--not-after ${value} is not in the future (now ${now.toISOString()}): the agents would refuse the bundle as expired`);
  const iso = new Date(t).toISOString();
  return t % 1000 === 0 ? iso.replace(/\.000Z$/, 'Z') : iso;
}

export function applySignOverrides(desired: unknown, o: SignOverrides, now: Date): unknown {
  if (o.generation === undefined && o.notAfter === undefined && o.nodeGroup === undefined && o.nodes === undefined) return desired;
  if (desired === null || typeof desired !== 'object' || Array.isArray(desired)) {
    throw new NwError('NW_BUNDLE', 'the desired state must be a mapping (schema, generation, …) to take --generation/--not-after/--node-group/--nodes');
  }
  const out: Record<string, unknown> = { ...(desired as Record<string, unknown>) };
  if (o.generation !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(o.generation) || !Number.isSafeInteger(Number(o.generation))) {
      throw new NwError('NW_USAGE', `--generation ${o.generation} is not a positive integer`);
    }
    out.generation = Number(o.generation);
  }
  if (o.notAfter !== undefined) out.notAfter = resolveNotAfter(o.notAfter, now);
  if (o.nodeGroup !== undefined) out.nodeGroup = o.nodeGroup;
  if (o.nodes !== undefined) {
    const nodes = o.nodes.split(',').map((n) => n.trim()).filter(Boolean);
    if (!nodes.length) throw new NwError('NW_USAGE', '--nodes names no node: pass a comma-separated list (w1,w2)');
    out.nodes = [...new Set(nodes)];
  }
  return out;
}
