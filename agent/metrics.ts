// Prometheus text exposition of the agent's counters (no client library needed for a handful).
import type { AgentStatus } from '../protocol/status.js';

export class Metrics {
  reconciles = new Map<string, number>();
  durationSum = 0;
  durationCount = 0;
  lastDuration = 0;
  errors = 0;
  driftRepairs = 0;
  bundlesRejected = 0;
  authFailures = 0;
  /** Set by the certificate renewal when it runs (agent/cert-renewal.ts). */
  cert: import('./cert-renewal.js').RenewalCounters | null = null;

  observeReconcile(ok: boolean, durationMs: number): void {
    const k = ok ? 'ok' : 'error';
    this.reconciles.set(k, (this.reconciles.get(k) ?? 0) + 1);
    if (!ok) this.errors++;
    this.durationSum += durationMs / 1000;
    this.durationCount++;
    this.lastDuration = durationMs / 1000;
  }

  render(s: AgentStatus): string {
    const L: string[] = [];
    const m = (name: string, type: string, help: string, rows: [string, number][]) => {
      L.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) L.push(`${name}${labels} ${v}`);
    };
    m('nodewright_reconcile_total', 'counter', 'Reconciles run, by result.', [
      ['{result="ok"}', this.reconciles.get('ok') ?? 0],
      ['{result="error"}', this.reconciles.get('error') ?? 0],
    ]);
    m('nodewright_reconcile_errors_total', 'counter', 'Reconciles that ended with a failed step.', [['', this.errors]]);
    m('nodewright_reconcile_duration_seconds', 'summary', 'Reconcile duration.', [
      ['_sum', this.durationSum],
      ['_count', this.durationCount],
    ]);
    L.splice(L.length - 2, 2, `nodewright_reconcile_duration_seconds_sum ${this.durationSum}`, `nodewright_reconcile_duration_seconds_count ${this.durationCount}`);
    m('nodewright_last_reconcile_duration_seconds', 'gauge', 'Duration of the last reconcile.', [['', this.lastDuration]]);
    m('nodewright_rollbacks_total', 'counter', 'Automatic kubelet rollbacks.', [['', s.rollbacks]]);
    m('nodewright_drift_repairs_total', 'counter', 'Reconciles triggered by drift that changed something.', [['', this.driftRepairs]]);
    m('nodewright_bundles_rejected_total', 'counter', 'Bundles refused (signature, schema, target, expiry or generation).', [['', this.bundlesRejected]]);
    m('nodewright_auth_failures_total', 'counter', 'Requests refused for a missing or wrong token.', [['', this.authFailures]]);
    if (this.cert) {
      m('nodewright_cert_renewals_total', 'counter', 'Certificate renewals, by result.', [
        ['{result="ok"}', this.cert.renewals],
        ['{result="error"}', this.cert.failures],
      ]);
      if (this.cert.notAfter) m('nodewright_cert_expiry_seconds', 'gauge', 'Seconds until the agent certificate expires.', [['', Math.round((Date.parse(this.cert.notAfter) - Date.now()) / 1000)]]);
    }
    m('nodewright_converged', 'gauge', '1 when the last reconcile converged.', [['', s.converged ? 1 : 0]]);
    m('nodewright_ready', 'gauge', '1 when converged and probes pass.', [['', s.ready ? 1 : 0]]);
    m('nodewright_desired_generation', 'gauge', 'Generation of the accepted desired state.', [['', s.desired?.generation ?? 0]]);
    m(
      'nodewright_step_state',
      'gauge',
      'Current state of each reconcile step (1 for the state it is in).',
      s.steps.map((st) => [`{step="${st.name}",state="${st.state}"}`, 1]),
    );
    m(
      'nodewright_probe_ok',
      'gauge',
      'Last Ceph probe results (1 pass, 0 fail).',
      s.probes.map((p) => [`{probe="${p.name}",status="${p.status}"}`, p.ok ? 1 : 0]),
    );
    return L.join('\n') + '\n';
  }
}
