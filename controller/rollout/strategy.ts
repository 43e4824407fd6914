// A rollout's strategy: how fast it ramps, how much may be down at once, how many failures the
// whole run tolerates, and when it may start anything. Parsed from CLI flags or YAML into plain
// JSON data (it is stored inside the rollout state). Safe defaults: maxUnavailable 1, failure
// budget 0, onFailure pause, autoRollback on.
import { Type } from '@sinclair/typebox';
import { NwError } from '../../host/errors.js';
import { parseFailureDomainSource, type FailureDomainSource } from './domains.js';
import { GateSchema, parseGates, type GateFailure, type GateSpec } from './gates.js';
import { parseRamp, stepSize, type RampStep } from './plan.js';
import { parseWindow, type MaintenanceWindow } from './window.js';

export type OnFailure = 'pause' | 'halt' | 'skip';
export type CountOrPercent = number | `${number}%`;

export interface Strategy {
  steps: RampStep[];
  maxUnavailable: CountOrPercent;
  /** What the rollout keeps apart; absent: the controller's default (controller.yaml `failureDomain`). */
  failureDomain?: FailureDomainSource;
  /** Nodes of one failure domain unavailable at once (in flight or observed unhealthy), at most. */
  maxUnavailablePerDomain: number;
  /** Failures the whole run tolerates; the one after it stops the run (exceeded, not met). */
  failureBudget: CountOrPercent;
  onFailure: OnFailure;
  minHealthyMs: number;
  gateTimeoutMs: number;
  soakMs: number;
  windows: MaintenanceWindow[];
  autoRollback: boolean;
  /** Checks of the cluster that must pass before a wave starts and while it runs (absent in older rollouts: none). */
  gates?: GateSpec[];
  /** A failing gate: wait (until it passes, or pause after gateWaitTimeoutMs) or pause at once. */
  gateFailure?: GateFailure;
  gateWaitTimeoutMs?: number;
}

/** What an operator writes (flags or YAML): numbers or strings like "30s", "20%", "1,5,20%". */
export interface StrategyInput {
  steps?: string | RampStep[];
  maxUnavailable?: string | number;
  failureDomain?: string;
  maxUnavailablePerDomain?: string | number;
  failureBudget?: string | number;
  onFailure?: string;
  minHealthy?: string | number;
  gateTimeout?: string | number;
  soak?: string | number;
  windows?: string | string[];
  autoRollback?: boolean;
  gates?: unknown[];
  gateFailure?: string;
  gateWaitTimeout?: string | number;
}

const DURATION = '^(?:[0-9]+(?:\\.[0-9]+)?|(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+)$';
const Duration = (d: { default: string; description: string }) =>
  Type.Union([Type.String({ pattern: DURATION }), Type.Number({ minimum: 0 })], { ...d, description: `${d.description} A duration: 30s, 5m, 1h30m, 250ms, or seconds.` });
const CountOrPercentOf = (min: number, d: { default: number; description: string }) =>
  Type.Union([Type.Integer({ minimum: min }), Type.String({ pattern: '^(?:[0-9]+|[0-9]+(?:\\.[0-9]+)?%)$' })], d);

/**
 * The strategy as operators write it: `strategy:` keys in YAML, `POST /v1/rollouts` `strategy`,
 * or `rollout start` flags. parseStrategy checks the values (with messages naming the key);
 * this schema documents them and lists the keys strategyFromYaml accepts.
 */
export const StrategySchema = Type.Object(
  {
    steps: Type.Optional(
      Type.Union(
        [
          Type.String({ pattern: '^[0-9.%, ]+$', description: 'Comma list, e.g. "1,5,20%".' }),
          Type.Array(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]+(?:\\.[0-9]+)?%$' })]), { minItems: 1 }),
        ],
        { default: [1, 5, '20%'], description: 'Canary ramp: wave sizes, the last repeating; a percentage of the target nodes rounds up. Flag --steps 1,5,20%.' },
      ),
    ),
    maxUnavailable: Type.Optional(
      CountOrPercentOf(1, {
        default: 1,
        description: 'Nodes in flight plus nodes observed unhealthy in the same group (inside or outside the rollout) never exceed it; a percentage rounds down, at least 1. Flag --max-unavailable.',
      }),
    ),
    failureDomain: Type.Optional(
      Type.String({
        pattern: '^(?:hypervisor|none|label:[A-Za-z0-9][A-Za-z0-9._/-]{0,315})$',
        description:
          'What a wave keeps apart: hypervisor (the Nova compute host the controller mapped each worker to), label:KEY (the value of node label KEY, e.g. label:topology.kubernetes.io/zone) or none (every node its own domain). A node the source does not map is its own domain, and the rollout status counts it as unmapped. No two nodes of one domain are planned in one wave. Default: controller.yaml failureDomain (hypervisor when it names an OpenStack cloud, else none). Flag --failure-domain.',
      }),
    ),
    maxUnavailablePerDomain: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]+$' })], {
        default: 1,
        description: 'Nodes of the rollout in one failure domain that are in flight or observed unhealthy never exceed it: a node waits while its domain is at the limit. Two nodes of one wave and one domain (after a live migration) are never in flight together. Flag --max-unavailable-per-domain.',
      }),
    ),
    failureBudget: Type.Optional(
      CountOrPercentOf(0, { default: 0, description: 'Failures the whole run tolerates; the one beyond it stops the run; a percentage rounds down. Flag --failure-budget N|P%.' }),
    ),
    onFailure: Type.Optional(
      Type.Union([Type.Literal('pause'), Type.Literal('halt'), Type.Literal('skip')], {
        default: 'pause',
        description: 'A failure within the budget: pause pauses, halt halts, skip goes on (the node stays rolled back). Beyond the budget: halt halts, otherwise paused. Flag --on-failure.',
      }),
    ),
    minHealthy: Type.Optional(Duration({ default: '30s', description: 'A node\'s gate must hold this long without interruption. Flag --min-healthy.' })),
    gateTimeout: Type.Optional(Duration({ default: '5m', description: 'Deadline of each gate from the push being accepted; must exceed minHealthy. Flag --gate-timeout.' })),
    soak: Type.Optional(Duration({ default: '0s', description: 'Wait between waves. Flag --soak.' })),
    windows: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        default: [],
        description: 'Maintenance windows "DAYS HH:MM-HH:MM [IANA zone]", e.g. "Mon-Fri 22:00-04:00 Europe/Berlin" (days name the day a window opens; daily or * for every day; zone default UTC). Outside every window nothing new starts. Flag --window (repeatable). Default: always open.',
      }),
    ),
    autoRollback: Type.Optional(
      Type.Boolean({ default: true, description: 'A node failing its gate gets a new generation carrying its previous desired state, which must pass the gate again. Flag --no-auto-rollback.' }),
    ),
    gates: Type.Optional(
      Type.Array(GateSchema, {
        default: [],
        description:
          'Checks of the cluster, evaluated by the controller before a wave starts and continuously while it runs: a failing gate holds the rollout (waiting, no new node touched, the reason names the gate and its failing check or alert) and it continues on its own when the gate passes. Flags --gate-ceph-health, --gate-prometheus URL --gate-alerts REGEX.',
      }),
    ),
    gateFailure: Type.Optional(
      Type.Union([Type.Literal('wait'), Type.Literal('pause')], {
        default: 'wait',
        description: 'A failing gate: wait (continue when it passes; paused once it failed for gateWaitTimeout) or pause at once (resume by hand). Flag --gate-failure.',
      }),
    ),
    gateWaitTimeout: Type.Optional(Duration({ default: '1h', description: 'How long a failing gate may hold the rollout before it is paused with the gate\'s reason. Flag --gate-wait-timeout.' })),
  },
  { additionalProperties: false, description: 'A rollout\'s strategy: how fast it ramps, how much may be down at once, how many failures the whole run tolerates, and when it may start anything. Bad values are NW_USAGE naming the key.' },
);

export const DEFAULT_STRATEGY: Strategy = {
  steps: [1, 5, '20%'],
  maxUnavailable: 1,
  maxUnavailablePerDomain: 1,
  failureBudget: 0,
  onFailure: 'pause',
  minHealthyMs: 30_000,
  gateTimeoutMs: 300_000,
  soakMs: 0,
  windows: [],
  autoRollback: true,
  gates: [],
  gateFailure: 'wait',
  gateWaitTimeoutMs: 3_600_000,
};

const usage = (msg: string): NwError => new NwError('NW_USAGE', msg);
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "1h30m", "250ms", or a number of seconds. */
export function parseDuration(name: string, v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw usage(`${name} ${v} is not a duration; write e.g. 30s or 5m`);
    return Math.round(v * 1000);
  }
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw usage(`${name} "${v}" is not a duration; write e.g. 30s, 5m or 1h30m`);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0));
}

function parseCountOrPercent(name: string, v: string | number, min: number): CountOrPercent {
  const text = String(v).trim();
  if (/^\d+(\.\d+)?%$/.test(text)) {
    const pct = Number(text.slice(0, -1));
    if (pct >= 0 && pct <= 100 && (min === 0 || pct > 0)) return text as `${number}%`;
  } else if (/^\d+$/.test(text) && Number(text) >= min) {
    return Number(text);
  }
  throw usage(`${name} "${v}" must be a whole number ≥ ${min} or a percentage like "10%"`);
}

/** maxUnavailablePerDomain: a whole number ≥ 1; `where` names the key or the flag. */
export function parsePerDomainLimit(v: string | number, where = 'maxUnavailablePerDomain'): number {
  const text = String(v).trim();
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text))) return Number(text);
  throw usage(`${where} "${v}" must be a whole number ≥ 1 (nodes of one failure domain unavailable at once)`);
}

/** A count or percentage resolved against `total` nodes (percentages round down, like Ansible). */
export function resolveCount(v: CountOrPercent, total: number): number {
  if (typeof v === 'number') return v;
  return Math.floor((Number(v.slice(0, -1)) * total) / 100);
}

/** maxUnavailable resolved: percentages round down but never below 1 (a rollout must move). */
export const maxUnavailableOf = (s: Strategy, total: number): number => Math.max(1, resolveCount(s.maxUnavailable, total));

export function parseStrategy(input: StrategyInput = {}): Strategy {
  const s: Strategy = { ...DEFAULT_STRATEGY, windows: [], gates: [] };
  if (input.steps !== undefined) {
    s.steps = typeof input.steps === 'string' ? parseRamp(input.steps) : input.steps;
    if (s.steps.length === 0) throw usage('steps is empty; give at least one, e.g. 1,5,20%');
    try {
      s.steps.forEach((step) => stepSize(step, 1));
    } catch (e) {
      throw usage(`steps: ${(e as Error).message}`);
    }
  }
  if (input.maxUnavailable !== undefined) s.maxUnavailable = parseCountOrPercent('maxUnavailable', input.maxUnavailable, 1);
  if (input.failureDomain !== undefined) {
    if (typeof input.failureDomain !== 'string') throw usage('failureDomain must be hypervisor, label:KEY or none');
    s.failureDomain = parseFailureDomainSource(input.failureDomain, 'failureDomain');
  }
  if (input.maxUnavailablePerDomain !== undefined) s.maxUnavailablePerDomain = parsePerDomainLimit(input.maxUnavailablePerDomain);
  if (input.failureBudget !== undefined) s.failureBudget = parseCountOrPercent('failureBudget', input.failureBudget, 0);
  if (input.onFailure !== undefined) {
    if (!['pause', 'halt', 'skip'].includes(input.onFailure)) throw usage(`onFailure "${input.onFailure}" must be pause, halt or skip`);
    s.onFailure = input.onFailure as OnFailure;
  }
  if (input.minHealthy !== undefined) s.minHealthyMs = parseDuration('minHealthy', input.minHealthy);
  if (input.gateTimeout !== undefined) s.gateTimeoutMs = parseDuration('gateTimeout', input.gateTimeout);
  if (input.soak !== undefined) s.soakMs = parseDuration('soak', input.soak);
  if (input.windows !== undefined) s.windows = (typeof input.windows === 'string' ? [input.windows] : input.windows).map(parseWindow);
  if (input.autoRollback !== undefined) {
    if (typeof input.autoRollback !== 'boolean') throw usage('autoRollback must be true or false');
    s.autoRollback = input.autoRollback;
  }
  if (input.gates !== undefined) s.gates = parseGates(input.gates);
  if (input.gateFailure !== undefined) {
    if (input.gateFailure !== 'wait' && input.gateFailure !== 'pause') throw usage(`gateFailure "${input.gateFailure}" must be wait or pause`);
    s.gateFailure = input.gateFailure;
  }
  if (input.gateWaitTimeout !== undefined) s.gateWaitTimeoutMs = parseDuration('gateWaitTimeout', input.gateWaitTimeout);
  if (s.gateTimeoutMs <= s.minHealthyMs) {
    throw usage(`gateTimeout (${s.gateTimeoutMs} ms) must be longer than minHealthy (${s.minHealthyMs} ms), or no node can pass its gate`);
  }
  return s;
}

/** The strategy block of a rollout YAML (keys as in StrategyInput); unknown keys are refused. */
export function strategyFromYaml(doc: unknown): Strategy {
  if (doc === undefined || doc === null) return parseStrategy();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usage('strategy must be a mapping of keys like steps, maxUnavailable, onFailure');
  const known = Object.keys(StrategySchema.properties);
  for (const k of Object.keys(doc)) {
    if (!known.includes(k)) throw usage(`strategy key "${k}" is unknown; known keys: ${known.join(', ')}`);
  }
  const o = doc as Record<string, unknown>;
  const str = (k: string): string | number | undefined => {
    const v = o[k];
    if (v === undefined || typeof v === 'string' || typeof v === 'number') return v;
    throw usage(`strategy.${k} must be a number or a string`);
  };
  let steps: StrategyInput['steps'];
  if (Array.isArray(o.steps)) {
    steps = o.steps.map((x) => (typeof x === 'number' ? x : typeof x === 'string' && x.endsWith('%') ? (x as `${number}%`) : Number.NaN));
  } else if (o.steps !== undefined) {
    steps = String(str('steps'));
  }
  const windows = o.windows;
  if (windows !== undefined && typeof windows !== 'string' && !(Array.isArray(windows) && windows.every((w) => typeof w === 'string'))) {
    throw usage('strategy.windows must be a string or a list of strings like "Mon-Fri 22:00-04:00 Europe/Berlin"');
  }
  if (o.gates !== undefined && !Array.isArray(o.gates)) throw usage('strategy.gates must be a list like [{ cephHealth: {} }]');
  if (o.gateFailure !== undefined && typeof o.gateFailure !== 'string') throw usage('strategy.gateFailure must be wait or pause');
  const onFailure = o.onFailure;
  if (onFailure !== undefined && typeof onFailure !== 'string') throw usage('strategy.onFailure must be pause, halt or skip');
  return parseStrategy({
    steps,
    maxUnavailable: str('maxUnavailable'),
    failureDomain: str('failureDomain') as string | undefined,
    maxUnavailablePerDomain: str('maxUnavailablePerDomain'),
    failureBudget: str('failureBudget'),
    onFailure,
    minHealthy: str('minHealthy'),
    gateTimeout: str('gateTimeout'),
    soak: str('soak'),
    windows: windows as string | string[] | undefined,
    autoRollback: o.autoRollback as boolean | undefined,
    gates: o.gates as unknown[] | undefined,
    gateFailure: o.gateFailure as string | undefined,
    gateWaitTimeout: str('gateWaitTimeout'),
  });
}
