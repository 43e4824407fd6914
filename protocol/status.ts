// What an agent reports on GET /v1/status: one TypeBox schema, the type the agent builds (Static)
// and what the controller checks every answer against (controller/fleet/agent-client.ts). Building
// these objects is cheap; the agent never compiles or checks them (its start-up stays schema-free,
// docs/agent.md P3). Extra properties are allowed (a newer agent may add fields); every string
// and array has a bound, so a valid status is bounded too.
import { Type, type Static } from '@sinclair/typebox';

/** Names, codes, versions, timestamps: short by nature. */
const Short = (o: { description?: string } = {}) => Type.String({ maxLength: 256, ...o });
/** Messages written by the agent (a step's outcome, a command's error). */
const Message = () => Type.String({ maxLength: 16_384 });
const Count = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Ms = () => Type.Number({ minimum: 0 });
const Generation = () => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const STEP_NAMES = ['packages', 'keyring', 'unit', 'artifact', 'probes'] as const;
export const StepNameSchema = Type.Union(STEP_NAMES.map((n) => Type.Literal(n)));
export type StepName = Static<typeof StepNameSchema>;
export const STEP_ORDER: StepName[] = [...STEP_NAMES];

export const StepStateSchema = Type.Union([
  Type.Literal('converged'), // nothing to do
  Type.Literal('changed'), // applied and verified
  Type.Literal('skipped'), // not applicable (policy, runtime)
  Type.Literal('not-configured'), // nothing in the desired state / capability absent
  Type.Literal('rolled_back'), // applied, verify failed, previous state restored
  Type.Literal('failed'), // could not apply (or could not restore)
  Type.Literal('pending'), // not reached in this run
]);
export type StepState = Static<typeof StepStateSchema>;

export const CodedErrorSchema = Type.Object({ code: Short(), message: Message() });
export type CodedError = Static<typeof CodedErrorSchema>;

export const StepStatusSchema = Type.Object({
  name: StepNameSchema,
  state: StepStateSchema,
  message: Message(),
  error: Type.Optional(CodedErrorSchema),
  durationMs: Ms(),
  at: Short(),
});
export type StepStatus = Static<typeof StepStatusSchema>;

export const ProbeStatusSchema = Type.Object({
  name: Short(),
  status: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('not-enforced')]),
  ok: Type.Boolean(),
  durationMs: Ms(),
  /** What the probe measured (quota bytes, df size, bytes before EDQUOT, timings …); never keys. */
  details: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 64 })),
  error: Type.Optional(CodedErrorSchema),
});
export type ProbeStatus = Static<typeof ProbeStatusSchema>;

/** What the worker is, for the controller (hypervisor mapping): never secrets. */
export const WorkerFactsSchema = Type.Object({
  hostname: Short(),
  /** non-loopback addresses of the worker's interfaces */
  addresses: Type.Array(Short(), { maxItems: 256 }),
  /** how the kubelet runs: from the desired state, else detected (kubelet-wrapper present → rkt) */
  runtime: Type.Union([Type.Literal('rkt'), Type.Literal('native')]),
  /** the Nova server id: SMBIOS product_uuid (lowercase) or agent.yaml instanceUuid */
  instanceUuid: Type.Optional(Short()),
});
export type WorkerFacts = Static<typeof WorkerFactsSchema>;

const KubeletVersion = Type.Object({ version: Short(), sha256: Short() });

export const AgentStatusSchema = Type.Object({
  agent: Type.Object({ version: Short(), pid: Count(), startedAt: Short(), node: Short() }),
  facts: WorkerFactsSchema,
  desired: Type.Union([Type.Object({ generation: Generation(), nodeGroup: Type.Optional(Short()), acceptedAt: Short() }), Type.Null()]),
  converged: Type.Boolean(),
  ready: Type.Boolean(),
  steps: Type.Array(StepStatusSchema, { maxItems: 16 }),
  kubelet: Type.Object({
    version: Type.Optional(Short()),
    sha256: Type.Optional(Short()),
    lastGood: Type.Optional(KubeletVersion),
    /** Artifacts that failed their health gate: held until a newer generation or `POST /v1/reconcile?retry=artifact`. */
    rejected: Type.Optional(
      Type.Array(
        Type.Object({ sha256: Short(), version: Short(), reason: Message(), at: Short(), generation: Type.Optional(Count()), rolledBack: Type.Boolean() }),
        { maxItems: 64 },
      ),
    ),
  }),
  lastReconcile: Type.Union([Type.Object({ at: Short(), durationMs: Ms(), trigger: Short(), ok: Type.Boolean(), generation: Count() }), Type.Null()]),
  lastError: Type.Union([Type.Object({ code: Short(), message: Message(), step: Type.Optional(StepNameSchema), at: Short() }), Type.Null()]),
  probes: Type.Array(ProbeStatusSchema, { maxItems: 64 }),
  rollbacks: Count(),
  /** The agent certificate's renewal (agent/cert-renewal.ts); absent when the agent does not renew (no `controller:`). */
  cert: Type.Optional(
    Type.Object({
      notAfter: Type.Union([Short(), Type.Null()]),
      renewAt: Type.Union([Short(), Type.Null()]),
      /** The last renewal attempt's failure; null once a renewal succeeded (or none failed). */
      lastRenewalError: Type.Union([Type.Object({ code: Short(), message: Message(), at: Short() }), Type.Null()]),
    }),
  ),
  /** Reconciles run since the state file was created. */
  reconciles: Count(),
  /** What the last recovery pass did with a change left in flight (null: none ran yet). */
  recovery: Type.Union([Type.Object({ action: Short(), message: Message() }), Type.Null()]),
  inflight: Type.Union([
    Type.Object({
      step: StepNameSchema,
      kind: Type.Optional(Type.Union([Type.Literal('binary'), Type.Literal('image'), Type.Literal('unit')])),
      phase: Short(),
      since: Short(),
    }),
    Type.Null(),
  ]),
});
export type AgentStatus = Static<typeof AgentStatusSchema>;
