// The agent's persisted state (state dir, written atomically): the accepted bundle, what was
// applied, and what is in flight, so a restart can finish or roll back a half-done change.
import path from 'node:path';
import type { Host } from '../host/index.js';
import type { SignedBundle } from '../protocol/bundle.js';
import type { StepName, StepStatus, ProbeStatus } from '../protocol/status.js';
import type { Backup } from '../host/fs.js';

export interface ArtifactRef {
  version: string;
  sha256: string;
}

/** A change that was started but not verified yet. */
export type Inflight =
  | {
      step: 'artifact';
      phase: 'staged' | 'swapped';
      target: string;
      staged: string;
      unit: string;
      next: ArtifactRef;
      previous: ArtifactRef | null;
      since: string;
    }
  | {
      step: 'unit';
      phase: 'written';
      unit: string;
      backups: Backup[];
      created: string[];
      since: string;
      /** What the verify must find in the effective environment. */
      expect: { variable: string; contains: string[] }[];
    };

export interface PersistedState {
  schema: 1;
  bundle: SignedBundle | null;
  acceptedAt: string | null;
  inflight: Inflight | null;
  kubelet: { current: ArtifactRef | null; lastGood: ArtifactRef | null; rejected: Record<string, { version: string; reason: string; at: string }> };
  steps: Partial<Record<StepName, StepStatus>>;
  probes: ProbeStatus[];
  rollbacks: number;
  reconciles: number;
}

export const emptyState = (): PersistedState => ({
  schema: 1,
  bundle: null,
  acceptedAt: null,
  inflight: null,
  kubelet: { current: null, lastGood: null, rejected: {} },
  steps: {},
  probes: [],
  rollbacks: 0,
  reconciles: 0,
});

export class StateStore {
  readonly file: string;
  private state: PersistedState = emptyState();
  constructor(private readonly host: Host) {
    this.file = path.posix.join(host.fs.stateDir, 'state.json');
  }

  async load(): Promise<PersistedState> {
    const text = await this.host.fs.readTextIfExists(this.file);
    this.state = text ? { ...emptyState(), ...(JSON.parse(text) as PersistedState) } : emptyState();
    return this.state;
  }

  get(): PersistedState {
    return this.state;
  }

  /** Mutate and persist atomically (0600: the bundle carries the keyring). */
  async update(fn: (s: PersistedState) => void): Promise<PersistedState> {
    const next = structuredClone(this.state);
    fn(next);
    await this.host.fs.mkdirp(this.host.fs.stateDir, 0o700);
    await this.host.fs.writeAtomic(this.file, JSON.stringify(next, null, 1) + '\n', { mode: 0o600, backup: false });
    this.state = next;
    return next;
  }
}
