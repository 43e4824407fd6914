// One reconcile: every step in order, observe → plan → apply → verify (→ rollback), then the
// probes as a health check. A Reconciler runs one at a time; triggers coalesce into one next run.
import { NwError, asNwError } from '../host/errors.js';
import type { DesiredState } from '../protocol/desired.js';
import type { StepName, StepState, StepStatus } from '../protocol/status.js';
import { isHold, type Step, type StepContext } from './steps/types.js';
import { packagesStep } from './steps/packages.js';
import { keyringStep } from './steps/keyring.js';
import { unitStep } from './steps/unit.js';
import { artifactStep } from './steps/artifact.js';
import { checkProbes, probesReport, probesSkip } from './probes.js';
import { isDriftOnly } from './trigger.js';

export const STEPS: Step<any, any, any>[] = [packagesStep, keyringStep, unitStep, artifactStep];

export interface ReconcileResult {
  trigger: string;
  at: string;
  durationMs: number;
  ok: boolean;
  converged: boolean;
  steps: StepStatus[];
  error: (ReturnType<NwError['toJSON']> & { step: StepName }) | null;
  changed: boolean;
}

const stepStatus = (name: StepName, state: StepState, message: string, t0: number, err?: NwError): StepStatus => ({
  name,
  state,
  message,
  durationMs: Math.round(performance.now() - t0),
  at: new Date().toISOString(),
  ...(err ? { error: { code: err.code, message: err.message } } : {}),
});

/** Plans only (for `plan`): what each step would do, rendered. */
export async function planAll(ctx: StepContext, d: DesiredState): Promise<{ step: StepName; state: string; text: string }[]> {
  const out: { step: StepName; state: string; text: string }[] = [];
  for (const step of STEPS) {
    const skip = await step.skip(d, ctx);
    if (skip) {
      out.push({ step: step.name, state: skip.state, text: skip.message });
      continue;
    }
    try {
      const p = await step.plan(await step.observe(ctx, d), d);
      if (p === null) out.push({ step: step.name, state: 'converged', text: '' });
      else if (isHold(p)) out.push({ step: step.name, state: p.state, text: p.message });
      else out.push({ step: step.name, state: 'change', text: step.render(p) });
    } catch (e) {
      const err = asNwError(e);
      out.push({ step: step.name, state: 'error', text: `${err.code}: ${err.message}` });
    }
  }
  const skip = probesSkip(ctx, d);
  out.push(skip ? { step: 'probes', state: skip.state, text: skip.message } : { step: 'probes', state: 'would run', text: 'probes run on apply' });
  return out;
}

/** The probes after the steps: skipped, blocked, the last results (a drift check that repaired nothing), or a fresh run. */
async function probeStatus(ctx: StepContext, d: DesiredState, o: { blockedBy: StepName | null; reuse: boolean }): Promise<StepStatus> {
  const ts = performance.now();
  if (o.blockedBy) return stepStatus('probes', 'pending', `not run: ${o.blockedBy} failed`, ts);
  const skip = probesSkip(ctx, d);
  if (skip) return stepStatus('probes', skip.state, skip.message, ts);
  const last = ctx.state.get().steps.probes;
  if (o.reuse && last) return last;
  const results = await checkProbes(ctx, d);
  await ctx.state.update((s) => {
    s.probes = results;
  });
  const r = probesReport(results);
  return stepStatus('probes', r.state, r.message, ts);
}

export async function reconcileOnce(ctx: StepContext, d: DesiredState, trigger: string): Promise<ReconcileResult> {
  const t0 = performance.now();
  const steps: StepStatus[] = [];
  let error: ReconcileResult['error'] = null;
  let changed = false;
  for (const step of STEPS) {
    const ts = performance.now();
    if (error) {
      steps.push(stepStatus(step.name, 'pending', `not run: ${error.step} failed`, ts));
      continue;
    }
    let phase: 'observe' | 'apply' | 'verify' = 'observe';
    let plan: unknown = null;
    const undo = step.newUndo();
    try {
      const skip = await step.skip(d, ctx);
      if (skip) {
        steps.push(stepStatus(step.name, skip.state, skip.message, ts));
        continue;
      }
      plan = await step.plan(await step.observe(ctx, d), d);
      if (plan === null) {
        steps.push(stepStatus(step.name, 'converged', 'converged', ts));
        continue;
      }
      if (isHold(plan)) {
        const err = plan.error ? new NwError(plan.error, plan.message) : undefined;
        steps.push(stepStatus(step.name, plan.state, plan.message, ts, err));
        if (err) error = { ...err.toJSON(), step: step.name };
        continue;
      }
      ctx.log.info({ step: step.name, trigger, plan: step.render(plan) }, `${step.name}: applying`);
      phase = 'apply';
      changed = true;
      await step.apply(ctx, plan, d, undo);
      phase = 'verify';
      const msg = await step.verify(ctx, plan, d, undo);
      ctx.log.info({ step: step.name }, `${step.name}: ${msg}`);
      steps.push(stepStatus(step.name, 'changed', msg, ts));
    } catch (e) {
      const err = asNwError(e);
      let note = '';
      let restored = false;
      if (phase !== 'observe') {
        try {
          ({ note, restored } = await step.rollback(ctx, plan, d, undo, err));
        } catch (re) {
          note = `restore failed too: ${asNwError(re).message}`;
        }
      }
      // "rolled_back" only when the change was really undone and the worker is good again.
      const state: StepState = phase === 'verify' && restored ? 'rolled_back' : 'failed';
      const message = note ? `${err.message} — ${note}` : err.message;
      ctx.log.error({ step: step.name, code: err.code, phase }, `${step.name}: ${message}`);
      steps.push(stepStatus(step.name, state, message, ts, err));
      if (step.blocksLaterSteps?.(state) ?? true) error = { ...err.toJSON(), message, step: step.name };
    }
  }
  steps.push(await probeStatus(ctx, d, { blockedBy: error?.step ?? null, reuse: !changed && isDriftOnly(trigger) }));
  const bad = (s: StepStatus) => s.state === 'failed' || s.state === 'rolled_back' || s.state === 'pending';
  const converged = !steps.some(bad);
  return {
    trigger,
    at: new Date().toISOString(),
    durationMs: Math.round(performance.now() - t0),
    ok: error === null,
    converged,
    steps,
    error,
    changed,
  };
}
