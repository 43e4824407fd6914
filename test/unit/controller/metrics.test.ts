// /metrics from memory: node health from the fleet view, progress of rollouts still going only.
import { describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../../controller/metrics.js';
import { newRollout, type RolloutState } from '../../../controller/rollout/engine.js';
import { parseStrategy } from '../../../controller/rollout/strategy.js';

const T0 = '2026-12-01T10:00:00.000Z';
const rollout = (id: string): RolloutState =>
  newRollout({ id, target: 'group workers', now: T0, strategy: parseStrategy(), nodes: ['w1', 'w2'].map((name) => ({ name, baseGeneration: 1, previousGeneration: 1, canRollBack: true })) });

describe('ControllerMetrics', () => {
  it('gauges come from what the daemon fed in; a finished rollout leaves them', () => {
    const m = new ControllerMetrics();
    m.nodeHealth = () => ['healthy', 'healthy', 'degraded'];
    const r = rollout('r1');
    m.trackRollout({ ...r, nodes: r.nodes.map((n, i) => (i === 0 ? { ...n, phase: 'healthy' } : n)) });
    let text = m.render();
    expect(text).toContain('nodewright_nodes{state="healthy"} 2');
    expect(text).toContain('nodewright_nodes{state="degraded"} 1');
    expect(text).toContain('nodewright_rollout_nodes_done{rollout="r1",state="running"} 1');
    expect(text).toContain('nodewright_rollout_nodes{rollout="r1",state="running"} 2');
    m.trackRollout({ ...r, state: 'completed' });
    text = m.render();
    expect(text).not.toContain('rollout="r1"');
  });

  it('nodewright_controller_leader is 1 only while the daemon says this controller leads', () => {
    const m = new ControllerMetrics();
    expect(m.render()).toMatch(/^nodewright_controller_leader 0$/m);
    let leading = true;
    m.leader = () => leading;
    expect(m.render()).toMatch(/^# TYPE nodewright_controller_leader gauge\nnodewright_controller_leader 1$/m);
    leading = false;
    expect(m.render()).toMatch(/^nodewright_controller_leader 0$/m);
  });

  it('the controller\'s own certificate: seconds left, only once the daemon knows it', () => {
    const m = new ControllerMetrics();
    expect(m.render()).not.toContain('nodewright_controller_cert_expiry_seconds');
    m.ownCertNotAfter = () => new Date(Date.now() + 3_600_000).toUTCString();
    const left = Number(/^nodewright_controller_cert_expiry_seconds (-?\d+)$/m.exec(m.render())?.[1]);
    expect(left).toBeGreaterThan(3590);
    expect(left).toBeLessThanOrEqual(3600);
  });

  it('each mapped node\'s failure domain (label values escaped) and the count of unmapped nodes', () => {
    const m = new ControllerMetrics();
    m.failureDomains = () => [
      ['w1', 'workers', { failureDomain: 'cmp-a', failureDomainSource: 'instance-uuid' }],
      ['w2', 'workers', { failureDomain: 'rack "7"', failureDomainSource: 'label:rack' }],
      ['w3', 'workers', { failureDomain: null, failureDomainSource: null }],
    ];
    m.count(m.hypervisorMaps, 'ok');
    const text = m.render();
    expect(text).toContain('nodewright_node_failure_domain{node="w1",group="workers",failure_domain="cmp-a",source="instance-uuid"} 1');
    expect(text).toContain('nodewright_node_failure_domain{node="w2",group="workers",failure_domain="rack \\"7\\"",source="label:rack"} 1');
    expect(text).not.toContain('node="w3"');
    expect(text).toContain('nodewright_nodes_unmapped 1');
    expect(text).toContain('nodewright_hypervisor_map_refreshes_total{outcome="ok"} 1');
  });
});
