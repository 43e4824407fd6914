// The agent's persisted state (state dir, written atomically): the accepted bundle, what was
// applied, and what is in flight, so a restart can finish or roll back a half-done change.
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';
import type { Host } from '../host/index.js';
import { SignedBundleSchema, type SignedBundle } from '../protocol/bundle.js';
import { schemaErrors } from '../protocol/desired.js';
import type { AcceptedGeneration } from './acceptance.js';
import type { StepName, StepStatus, ProbeStatus } from '../protocol/status.js';
import type { Backup } from '../host/fs.js';
import { NwError } from '../host/errors.js';

export interface ArtifactRef {
  version: string;
  sha256: string;
}

/**
 * A kubelet artifact that failed its health gate, keyed by its ref's sha256. It is held (not
 * installed again) until a bundle of a newer generation arrives or an operator asks for a retry
 * (`POST /v1/reconcile?retry=artifact`). Records written before these fields existed lack
 * `generation` (held until a retry) and `rolledBack` (they were rolled back).
 */
export interface Rejection {
  version: string;
  reason: string;
  at: string;
  /** Generation of the bundle that asked for it. */
  generation?: number;
  /** Whether the previous kubelet was put back and is healthy again. */
  rolledBack?: boolean;
}

/** What a unit edit's read-back must find in the effective environment. */
export interface Expectation {
  variable: string;
  /** Normalised (whitespace-collapsed) effective value the variable must have. */
  value: string;
}

/** Unit files written but not verified yet: the backups to restore and what the read-back expects. */
interface UnitEditInflight {
  phase: 'written';
  unit: string;
  backups: Backup[];
  created: string[];
  expect: Expectation[];
  since: string;
}

/**
 * A change that was started but not verified yet, stored as its owner knows it so the recovery
 * pass reads it back instead of guessing: a kubelet binary swap, a kubelet image (a unit edit of
 * KUBELET_IMAGE_TAG/URL that must also pass the health gate), or a plain unit edit.
 */
export type Inflight =
  | { kind: 'binary'; phase: 'staged' | 'swapped'; unit: string; target: string; staged: string; artifact: ArtifactRef; previous: ArtifactRef | null; since: string }
  | (UnitEditInflight & { kind: 'image'; artifact: ArtifactRef })
  | (UnitEditInflight & { kind: 'unit' });

/**
 * Records written before `kind` existed: a binary swap keeps its meaning; an old unit record
 * (`contains: [value]`) is finished or restored as a plain unit edit (read back, no health gate).
 */
function upgradeInflight(f: unknown): Inflight | null {
  const o = f as Record<string, any> | null;
  if (!o || o.kind) return (o as Inflight | null) ?? null;
  if (o.step === 'artifact') return { kind: 'binary', phase: o.phase, unit: o.unit, target: o.target, staged: o.staged, artifact: o.next, previous: o.previous, since: o.since };
  const expect = (o.expect ?? []).map((e: { variable: string; contains: string[] }) => ({ variable: e.variable, value: e.contains[0] }));
  return { kind: 'unit', phase: 'written', unit: o.unit, backups: o.backups ?? [], created: o.created ?? [], expect, since: o.since };
}

export interface PersistedState {
  schema: 1;
  bundle: SignedBundle | null;
  acceptedAt: string | null;
  /** The highest generation ever accepted; kept when `bundle` is dropped, so an older one stays stale. */
  highestAccepted: AcceptedGeneration | null;
  inflight: Inflight | null;
  kubelet: { current: ArtifactRef | null; lastGood: ArtifactRef | null; rejected: Record<string, Rejection> };
  steps: Partial<Record<StepName, StepStatus>>;
  probes: ProbeStatus[];
  rollbacks: number;
  reconciles: number;
}

export const emptyState = (): PersistedState => ({
  schema: 1,
  bundle: null,
  acceptedAt: null,
  highestAccepted: null,
  inflight: null,
  kubelet: { current: null, lastGood: null, rejected: {} },
  steps: {},
  probes: [],
  rollbacks: 0,
  reconciles: 0,
});

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Ref = Type.Object({ version: Type.String(), sha256: Type.String() });
const Counter = Type.Integer({ minimum: 0 });
/**
 * What load() insists on. Keys not named here are kept (a newer agent's fields survive a
 * downgrade); the in-flight record is an object whose fields its owner (recovery) reads; the
 * stored bundle is verified again (signature, schema) by the agent at start.
 */
export const PersistedStateSchema = Type.Object({
  schema: Type.Literal(1),
  bundle: Nullable(SignedBundleSchema),
  acceptedAt: Nullable(Type.String()),
  highestAccepted: Nullable(Type.Object({ generation: Type.Integer({ minimum: 1 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) })),
  inflight: Nullable(Type.Object({})),
  kubelet: Type.Object({ current: Nullable(Ref), lastGood: Nullable(Ref), rejected: Type.Record(Type.String(), Type.Object({})) }),
  steps: Type.Record(Type.String(), Type.Object({ name: Type.String(), state: Type.String(), message: Type.String() })),
  probes: Type.Array(Type.Object({ name: Type.String(), status: Type.String(), ok: Type.Boolean() })),
  rollbacks: Counter,
  reconciles: Counter,
});

export class StateStore {
  readonly file: string;
  private state: PersistedState = emptyState();
  /** Updates run one after another, each on the state the previous one left. */
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly host: Host) {
    this.file = path.posix.join(host.fs.stateDir, 'state.json');
  }

  async load(): Promise<PersistedState> {
    const text = await this.host.fs.readTextIfExists(this.file);
    let saved: PersistedState | null = null;
    try {
      saved = text ? (JSON.parse(text) as PersistedState) : null;
    } catch (e) {
      throw new NwError('NW_STATE', `state file ${this.file} is not valid JSON (${(e as Error).message}): move it aside and restart; the agent then re-applies the desired state from scratch`);
    }
    const wrongShape = (why: string) =>
      new NwError('NW_STATE', `state file ${this.file} has the wrong shape (${why}): move it aside and restart; the agent then starts empty and takes the next signed bundle it is sent`);
    if (saved !== null && (typeof saved !== 'object' || Array.isArray(saved))) throw wrongShape('not a JSON object');
    const state = saved ? { ...emptyState(), ...saved, inflight: upgradeInflight(saved.inflight) } : emptyState();
    if (!Check(PersistedStateSchema, state)) throw wrongShape(schemaErrors(PersistedStateSchema, state, 3).join('; '));
    this.state = state;
    return this.state;
  }

  get(): PersistedState {
    return this.state;
  }

  /** Mutate and persist atomically (0600: the bundle carries the keyring). */
  update(fn: (s: PersistedState) => void): Promise<PersistedState> {
    const run = this.chain.then(async () => {
      const next = structuredClone(this.state);
      fn(next);
      await this.host.fs.mkdirp(this.host.fs.stateDir, 0o700);
      await this.host.fs.writeAtomic(this.file, JSON.stringify(next, null, 1) + '\n', { mode: 0o600, backup: false });
      this.state = next;
      return next;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
