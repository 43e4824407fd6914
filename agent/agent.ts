// The agent's core: desired state (verified bundles), the reconciler, status. No transport here:
// the daemon (HTTP, systemd, watch, schedule) and the one-shot CLI both drive this object.
import { VERSION } from '../host/build-info.js';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { createHost, type Host } from '../host/index.js';
import { NwError, asNwError } from '../host/errors.js';
import { loadPublicKey, verifyBundle, type SignedBundle } from '../protocol/bundle.js';
import { acceptedGenerationOf, checkAcceptance, type Acceptance } from './acceptance.js';
import { CEPH_CONF_PATH, keyringPath, kubeletInstallPath, unitPath, type DesiredState } from '../protocol/desired.js';
import { STEP_ORDER, type AgentStatus, type StepStatus } from '../protocol/status.js';
import type { AgentConfig } from './config.js';
import { FactsReader } from './facts.js';
import { sweepLeftovers, writeDirs } from './leftovers.js';
import { Metrics } from './metrics.js';
import type { ReconcileResult } from './reconcile.js';
import { Reconciler } from './reconciler.js';
import { bringsDesired, isDriftOnly } from './trigger.js';
import type { RecoveryReport } from './recovery.js';
import { StateStore } from './state.js';
import type { PhaseHook, StepContext } from './steps/types.js';

/** Injected by a test entry only (never from agent.yaml): see lab/worker/agent-hooked.ts. */
export interface AgentHooks {
  onPhase?: PhaseHook;
}

export const AGENT_VERSION = VERSION;

export async function readPublicKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the pinned public key ${file} (${(e as NodeJS.ErrnoException).code}): copy the controller's .pub file there`);
  }
  return loadPublicKey(pem);
}

export class Agent {
  readonly host: Host;
  private readonly facts: FactsReader;
  readonly state: StateStore;
  readonly metrics = new Metrics();
  readonly reconciler: Reconciler;
  readonly startedAt = new Date().toISOString();
  lastResult: ReconcileResult | null = null;
  lastRecovery: RecoveryReport | null = null;
  private ctx: StepContext;
  private accepting: Promise<unknown> = Promise.resolve();
  /** Hook for the daemon (e.g. systemd STATUS=). */
  onReconciled: (r: ReconcileResult) => void = () => {};

  private constructor(readonly config: AgentConfig, readonly log: Logger, publicKey: KeyObject, hooks: AgentHooks) {
    this.host = createHost({ root: config.root, stateDir: config.stateDir });
    this.state = new StateStore(this.host);
    this.facts = new FactsReader(config.root, config.instanceUuid);
    this.ctx = { host: this.host, config, state: this.state, log, publicKey, ...(hooks.onPhase ? { onPhase: hooks.onPhase } : {}) };
    this.reconciler = new Reconciler((t) => this.runReconcile(t));
  }

  static async create(config: AgentConfig, log: Logger, hooks: AgentHooks = {}): Promise<Agent> {
    const agent = new Agent(config, log, await readPublicKey(config.publicKeyFile), hooks);
    await agent.state.load();
    const b = agent.state.get().bundle;
    if (b) {
      try {
        const d = verifyBundle(b, agent.ctx.publicKey!);
        // A state file from before generations were tracked: the stored bundle is the highest one.
        if (!agent.state.get().highestAccepted) await agent.state.update((s) => void (s.highestAccepted = acceptedGenerationOf(d)));
      } catch (e) {
        // The highest generation stays: a replay of an older bundle signed by the new key is still stale.
        log.error({ code: asNwError(e).code }, `stored bundle no longer verifies (${asNwError(e).message}); waiting for a new one`);
        await agent.state.update((s) => {
          s.bundle = null;
        });
      }
    }
    return agent;
  }

  desired(): DesiredState | null {
    return this.state.get().bundle?.desired ?? null;
  }

  /**
   * Verify (signature, schema, then the replay rules of checkAcceptance) and persist a bundle.
   * Nothing changes when it is refused. `changed` is false when the agent already holds exactly
   * this generation and content: the caller then has nothing to reconcile.
   */
  accept(input: unknown, now = new Date()): Promise<{ desired: DesiredState; changed: boolean }> {
    // One at a time: two bundles posted at once must not both pass the check against the same held generation.
    const run = this.accepting.then(() => this.acceptOne(input, now));
    this.accepting = run.catch(() => undefined);
    return run;
  }

  private async acceptOne(input: unknown, now: Date): Promise<{ desired: DesiredState; changed: boolean }> {
    let desired: DesiredState;
    let verdict: Acceptance;
    try {
      desired = verifyBundle(input, this.ctx.publicKey!);
      verdict = checkAcceptance(this.state.get().highestAccepted, desired, { node: this.config.node, nodeGroup: this.config.nodeGroup }, now);
    } catch (e) {
      this.metrics.bundlesRejected++;
      throw e;
    }
    if (verdict === 'same' && this.state.get().bundle) return { desired, changed: false };
    const b = input as SignedBundle;
    await this.state.update((s) => {
      s.bundle = { kind: b.kind, desired, signature: b.signature };
      s.acceptedAt = now.toISOString();
      s.highestAccepted = acceptedGenerationOf(desired);
    });
    this.log.info({ generation: desired.generation, keyId: b.signature.keyId }, 'accepted a signed desired state');
    return { desired, changed: true };
  }

  async recover(): Promise<RecoveryReport> {
    await this.removeLeftovers();
    // The steps and the unit editor load on first use: start-up (READY=1) does not wait for them.
    if (!this.state.get().inflight) return (this.lastRecovery = { action: 'none', message: 'nothing in flight' });
    const { recover } = await import('./recovery.js');
    this.lastRecovery = await recover(this.ctx);
    if (this.lastRecovery.action !== 'none') this.log.warn({ recovery: this.lastRecovery }, `recovery: ${this.lastRecovery.message}`);
    return this.lastRecovery;
  }

  /** Temp and staging files of a killed agent (agent/leftovers.ts); a change in flight keeps its staged binary for recovery. */
  private async removeLeftovers(): Promise<void> {
    const f = this.state.get().inflight;
    const keep = new Set(f?.kind === 'binary' && f.phase === 'staged' ? [f.staged] : []);
    const paths = [...this.watchedPaths(), ...(f?.kind === 'binary' ? [f.target] : [])];
    const removed = await sweepLeftovers(this.host, writeDirs(paths, this.host.fs.stateDir), keep);
    if (removed.length) this.log.warn({ removed }, `recovery: removed ${removed.length} temp file(s) a stopped agent left`);
  }

  reconcile(trigger: string): Promise<ReconcileResult | null> {
    return this.reconciler.trigger(trigger);
  }

  /** Forget every rejected kubelet artifact, so the next reconcile installs the desired one again. */
  async retryArtifact(): Promise<void> {
    await this.state.update((s) => {
      s.kubelet.rejected = {};
    });
    this.log.info('rejected kubelet artifacts forgotten: the next reconcile retries the desired one');
  }

  async plan(d: DesiredState) {
    const { planAll } = await import('./reconcile.js');
    return planAll(this.ctx, d);
  }

  private async runReconcile(trigger: string): Promise<ReconcileResult | null> {
    const d = this.desired();
    if (!d) return null;
    const { reconcileOnce } = await import('./reconcile.js');
    const r = await reconcileOnce(this.ctx, d, trigger);
    this.metrics.observeReconcile(r.ok, r.durationMs);
    // Anything that changed the worker without a new desired state was drift being repaired.
    if (!bringsDesired(trigger) && r.changed) this.metrics.driftRepairs++;
    // A drift check that found a converged worker still converged keeps the step records of the run
    // that last did something (status shows what the bundle changed, not "converged" from the check
    // that the agent's own writes or the new watch list set off a moment later).
    const prev = this.lastResult;
    const quietCheck = isDriftOnly(trigger) && !r.changed && r.converged && prev?.converged === true && prev.generation === r.generation;
    await this.state.update((s) => {
      if (!quietCheck) for (const st of r.steps) s.steps[st.name] = st;
      s.reconciles += 1;
    });
    // Only now: status() must never pair this result with the previous run's step states.
    this.lastResult = r;
    this.log.info({ trigger, ok: r.ok, converged: r.converged, durationMs: r.durationMs }, 'reconcile done');
    this.onReconciled(r);
    return r;
  }

  /** Files whose drift the watcher repairs. */
  watchedPaths(): string[] {
    const d = this.desired();
    if (!d) return [];
    const out: string[] = [];
    if (d.ceph) out.push(keyringPath(d.ceph), CEPH_CONF_PATH);
    if (d.unit?.bindMounts.length || d.kubelet?.kind === 'image') out.push(unitPath(d), `${unitPath(d)}.d`);
    if (d.kubelet?.kind === 'binary') out.push(kubeletInstallPath(d.kubelet));
    return out;
  }

  status(): AgentStatus {
    const s = this.state.get();
    const d = this.desired();
    const steps: StepStatus[] = STEP_ORDER.map((n) => s.steps[n]).filter((x): x is StepStatus => Boolean(x));
    const r = this.lastResult;
    // A result of an older generation says nothing about the one just accepted: not converged until it ran.
    const converged = Boolean(d && r && r.converged && r.generation === d.generation);
    const probesOk = s.probes.every((p) => p.ok);
    const errStep = steps.find((st) => st.error);
    return {
      agent: { version: AGENT_VERSION, pid: process.pid, startedAt: this.startedAt, node: this.config.node || os.hostname() },
      facts: this.facts.read(d?.runtime),
      desired: d ? { generation: d.generation, ...(d.nodeGroup ? { nodeGroup: d.nodeGroup } : {}), acceptedAt: s.acceptedAt ?? '' } : null,
      converged,
      ready: converged && probesOk,
      steps,
      kubelet: {
        ...(s.kubelet.current ? { version: s.kubelet.current.version, sha256: s.kubelet.current.sha256 } : {}),
        ...(s.kubelet.lastGood ? { lastGood: s.kubelet.lastGood } : {}),
        ...(Object.keys(s.kubelet.rejected).length
          ? { rejected: Object.entries(s.kubelet.rejected).map(([sha256, r]) => ({ sha256, ...r, rolledBack: r.rolledBack !== false })) }
          : {}),
      },
      lastReconcile: r ? { at: r.at, durationMs: r.durationMs, trigger: r.trigger, ok: r.ok, generation: r.generation } : null,
      lastError: errStep?.error ? { ...errStep.error, step: errStep.name, at: errStep.at } : null,
      probes: s.probes,
      rollbacks: s.rollbacks,
      ...(this.metrics.cert ? { cert: { notAfter: this.metrics.cert.notAfter, renewAt: this.metrics.cert.renewAt, lastRenewalError: this.metrics.cert.lastError } } : {}),
      reconciles: s.reconciles,
      recovery: this.lastRecovery ? { action: this.lastRecovery.action, message: this.lastRecovery.message } : null,
      // An image change is a unit edit on disk: its files are the unit's.
      inflight: s.inflight ? { step: s.inflight.kind === 'binary' ? 'artifact' : 'unit', kind: s.inflight.kind, phase: s.inflight.phase, since: s.inflight.since } : null,
    };
  }
}
