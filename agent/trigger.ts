// Why a reconcile runs. Triggers that arrive during a run coalesce into one next run whose
// trigger is their names joined with '+', e.g. `drift+watch`.
export type Trigger =
  | 'start' // the daemon's first run after READY=1
  | 'desired' // a new bundle over the API
  | 'apply' // `nodewright-agent apply`
  | 'api' // POST /v1/reconcile
  | 'schedule' // schedule.reconcile
  | 'probes' // schedule.probes
  | 'drift' // a watched file changed
  | 'retry' // a run that failed for a passing reason (agent/retry.ts), again after a backoff
  | 'watch'; // the watch list changed

const parts = (t: string) => t.split('+');

/** Drift checks only (the agent's own writes come back as drift events too). */
export const isDriftOnly = (t: string) => parts(t).every((p) => p === 'drift' || p === 'watch');

/** A run that brings a new desired state; any other run that changed the worker repaired drift. */
export const bringsDesired = (t: string) => parts(t).some((p) => p === 'desired' || p === 'apply');
