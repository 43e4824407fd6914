// What an agent reports on GET /v1/status (the controller's poller reads this).
export type StepName = 'packages' | 'keyring' | 'unit' | 'artifact' | 'probes';
export const STEP_ORDER: StepName[] = ['packages', 'keyring', 'unit', 'artifact', 'probes'];

export type StepState =
  | 'converged' // nothing to do
  | 'changed' // applied and verified
  | 'skipped' // not applicable (policy, runtime)
  | 'not-configured' // nothing in the desired state / capability absent
  | 'rolled_back' // applied, verify failed, previous state restored
  | 'failed' // could not apply (or could not restore)
  | 'pending'; // not reached in this run

export interface CodedError {
  code: string;
  message: string;
}

export interface StepStatus {
  name: StepName;
  state: StepState;
  message: string;
  error?: CodedError;
  durationMs: number;
  at: string;
}

export interface ProbeStatus {
  name: string;
  status: 'pass' | 'fail' | 'not-enforced';
  ok: boolean;
  durationMs: number;
  /** What the probe measured (quota bytes, df size, bytes before EDQUOT, timings …); never keys. */
  details?: Record<string, unknown>;
  error?: CodedError;
}

/** What the worker is, for the controller (hypervisor mapping): never secrets. */
export interface WorkerFacts {
  hostname: string;
  /** non-loopback addresses of the worker's interfaces */
  addresses: string[];
  /** how the kubelet runs: from the desired state, else detected (kubelet-wrapper present → rkt) */
  runtime: 'rkt' | 'native';
  /** the Nova server id: SMBIOS product_uuid (lowercase) or agent.yaml instanceUuid */
  instanceUuid?: string;
}

export interface AgentStatus {
  agent: { version: string; pid: number; startedAt: string; node: string };
  facts: WorkerFacts;
  desired: { generation: number; nodeGroup?: string; acceptedAt: string } | null;
  converged: boolean;
  ready: boolean;
  steps: StepStatus[];
  kubelet: {
    version?: string;
    sha256?: string;
    lastGood?: { version: string; sha256: string };
    /** Artifacts that failed their health gate: held until a newer generation or `POST /v1/reconcile?retry=artifact`. */
    rejected?: { sha256: string; version: string; reason: string; at: string; generation?: number; rolledBack: boolean }[];
  };
  lastReconcile: { at: string; durationMs: number; trigger: string; ok: boolean; generation: number } | null;
  lastError: (CodedError & { step?: StepName; at: string }) | null;
  probes: ProbeStatus[];
  rollbacks: number;
  /** Reconciles run since the state file was created. */
  reconciles: number;
  /** What the last recovery pass did with a change left in flight (null: none ran yet). */
  recovery: { action: string; message: string } | null;
  inflight: { step: StepName; kind?: 'binary' | 'image' | 'unit'; phase: string; since: string } | null;
}
