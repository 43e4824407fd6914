// The shape every reconcile step has: observe → plan (pure, printable) → apply → verify,
// and rollback when verify fails.
import type { Host } from '../../host/index.js';
import type { DesiredState } from '../../protocol/desired.js';
import type { StepName, StepState } from '../../protocol/status.js';
import type { AgentConfig } from '../config.js';
import type { StateStore } from '../state.js';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../host/errors.js';
import type { Restore } from '../kubelet-verdict.js';
import type { KeyObject } from 'node:crypto';

/** Points inside a change where a test may widen the window (e.g. to kill the agent there). */
export type Phase = 'artifact:staged' | 'artifact:swapped' | 'unit:written';
export type PhaseHook = (phase: Phase) => Promise<void> | void;

export interface StepContext {
  host: Host;
  config: AgentConfig;
  state: StateStore;
  log: Logger;
  publicKey: KeyObject | null;
  /** Unset in production; only a test entry (lab/worker/agent-hooked.ts) sets it. */
  onPhase?: PhaseHook;
}

/** A plan that says "do nothing, but the step is not converged" (e.g. artifact rejected earlier). */
export interface Hold {
  hold: true;
  state: StepState;
  message: string;
  /** Set when holding means the worker is not in a good state: the run fails with this code. */
  error?: ErrorCode;
}

export const isHold = (p: unknown): p is Hold => typeof p === 'object' && p !== null && (p as Hold).hold === true;

export interface Step<O = unknown, P = unknown, U = unknown> {
  name: StepName;
  /** A reason to skip (policy, runtime, nothing desired) or null. */
  skip(desired: DesiredState, ctx: StepContext): Promise<{ state: StepState; message: string } | null>;
  observe(ctx: StepContext, desired: DesiredState): Promise<O>;
  /** Pure (no I/O besides loading code): null when converged. */
  plan(observed: O, desired: DesiredState): P | Hold | null | Promise<P | Hold | null>;
  /** Printable, secrets redacted. */
  render(plan: P): string;
  /** The only writer. Records what rollback needs in `undo` as it goes (apply may fail half-way). */
  apply(ctx: StepContext, plan: P, desired: DesiredState, undo: U): Promise<void>;
  newUndo(): U;
  /** Throws a coded error when the change did not take. */
  verify(ctx: StepContext, plan: P, desired: DesiredState, undo: U): Promise<string>;
  /**
   * Whether a run that ended in `state` stops the later steps (default: any failure does). The
   * artifact step's honest rollback leaves a consistent worker, so the probes still run.
   */
  blocksLaterSteps?(state: StepState): boolean;
  /** Put back what apply changed: a one-line note, and whether the worker is back in a good state. */
  rollback(ctx: StepContext, plan: P, desired: DesiredState, undo: U, cause: Error): Promise<Restore>;
}
