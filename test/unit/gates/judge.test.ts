// The pure halves of the gate checks: Ceph health judged without ignored checks, alerts filtered the
// kured way, query results judged by the pass condition.
import { describe, expect, it } from 'vitest';
import { judgeCephHealth } from '../../../controller/gates/ceph-health.js';
import { filterAlerts, judgeAlerts, judgeQuery } from '../../../controller/gates/prometheus.js';

const target = { fsid: '11111111-2222-3333-4444-555555555555', monHost: ['127.0.0.1:3300'] };
const status = (pgs: [string, number][] = [['active+clean', 8]]) => ({ fsid: target.fsid, pgmap: { num_pgs: 8, pgs_by_state: pgs.map(([state_name, count]) => ({ state_name, count })) } });
const noout = { status: 'HEALTH_WARN', checks: { OSDMAP_FLAGS: { severity: 'HEALTH_WARN', summary: { message: 'noout flag(s) set' } } } };
const spec = { allow: ['HEALTH_OK'], ignore: [] as string[], cleanPgs: false };

describe('cephHealth', () => {
  it('holds on a check that is not ignored, naming it; passes with it ignored', () => {
    expect(judgeCephHealth(spec, target, status(), noout)).toEqual({ pass: false, message: 'HEALTH_WARN (OSDMAP_FLAGS: noout flag(s) set)' });
    expect(judgeCephHealth({ ...spec, ignore: ['OSDMAP_FLAGS'] }, target, status(), noout)).toEqual({ pass: true, message: 'HEALTH_OK (HEALTH_WARN without OSDMAP_FLAGS)' });
    expect(judgeCephHealth({ ...spec, allow: ['HEALTH_OK', 'HEALTH_WARN'] }, target, status(), noout).pass).toBe(true);
    expect(judgeCephHealth(spec, target, status(), { status: 'HEALTH_OK', checks: {} })).toEqual({ pass: true, message: 'HEALTH_OK' });
  });

  it('holds on PGs that are not active+clean with cleanPgs, and on another cluster', () => {
    const pgs = status([['active+clean', 6], ['active+undersized+degraded', 2]]);
    expect(judgeCephHealth(spec, target, pgs, { status: 'HEALTH_OK' }).pass).toBe(true);
    expect(judgeCephHealth({ ...spec, cleanPgs: true }, target, pgs, { status: 'HEALTH_OK' })).toEqual({ pass: false, message: 'PGs not active+clean: 2 active+undersized+degraded' });
    expect(judgeCephHealth(spec, target, { ...status(), fsid: 'aaaaaaaa-2222-3333-4444-555555555555' }, { status: 'HEALTH_OK' }).message).toMatch(/has fsid aaaaaaaa-.* not the desired state's 11111111-/);
  });
});

describe('prometheus', () => {
  const alerts = [
    { labels: { alertname: 'CephHealthWarning', severity: 'warning' }, state: 'firing' },
    { labels: { alertname: 'NodewrightAgentDown', severity: 'critical', instance: 'w1' }, state: 'pending' },
    { labels: { alertname: 'Watchdog' }, state: 'firing' },
  ];
  it('filters by name, firing only (or pending too) and labels', () => {
    const p = { url: 'http://p', alerts: '^Nodewright|^Ceph', firingOnly: true };
    expect(filterAlerts(p, alerts).map((a) => a.labels.alertname)).toEqual(['CephHealthWarning']);
    expect(filterAlerts({ ...p, firingOnly: false }, alerts).map((a) => a.labels.alertname)).toEqual(['CephHealthWarning', 'NodewrightAgentDown']);
    expect(filterAlerts({ ...p, firingOnly: false, labels: { severity: 'critical' } }, alerts).map((a) => a.labels.alertname)).toEqual(['NodewrightAgentDown']);
    expect(judgeAlerts({ ...p, firingOnly: false }, alerts)).toEqual({ pass: false, message: 'alert CephHealthWarning firing, NodewrightAgentDown pending on w1' });
    expect(judgeAlerts({ ...p, alerts: '^Nothing' }, alerts)).toEqual({ pass: true, message: 'no firing alert matches ^Nothing' });
  });

  it('judges an instant vector or a scalar by the pass condition', () => {
    const q = { url: 'http://p', query: 'sum(up == 0)', pass: 'result == 0' };
    expect(judgeQuery(q, { resultType: 'vector', result: [] })).toEqual({ pass: true, message: 'no samples meets result == 0' });
    expect(judgeQuery(q, { resultType: 'vector', result: [{ value: [1, '2'] }] })).toEqual({ pass: false, message: 'result 2 does not meet result == 0' });
    expect(judgeQuery(q, { resultType: 'scalar', result: [1, '0'] }).pass).toBe(true);
    expect(judgeQuery(q, { resultType: 'matrix', result: [] }).pass).toBe(false);
  });
});
